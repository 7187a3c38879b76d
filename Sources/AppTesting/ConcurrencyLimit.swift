#if canImport(Glibc)
    import Glibc
#endif

/// An async semaphore: at most `permits` holders at a time, the rest wait in arrival order.
///
/// ``withTestApplication(configure:_:)`` takes a permit from ``ConcurrencyLimit/applications`` for the whole life
/// of its application. Swift Testing starts every test case at once; hundreds of live servers (each with its own
/// threads, SQLite file and fsyncs) on a small CI machine would starve each other and the timing-sensitive tests
/// of other modules running in the same process.
public actor ConcurrencyLimit {
    /// Live test applications at a time: two per core, at least four.
    public static let applications = ConcurrencyLimit(permits: max(4, 2 * ConcurrencyLimit.processorCount))

    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(permits: Int) { available = permits }

    /// Runs `body` while holding a permit.
    public nonisolated func run<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()  // the permit passes straight to the next waiter
        }
    }

    static var processorCount: Int {
        #if canImport(Glibc)
            Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
            4
        #endif
    }
}
