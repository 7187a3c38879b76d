import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The event loop of open streams whose sockets the server took over from libmicrohttpd once their response head
/// was sent (see ``ResponseStream``).
///
/// One thread and one epoll set for all of them. It watches each socket for the client closing its end (reported
/// at once, not at the next heartbeat) and, only while a stream has bytes the socket could not take, for room to
/// write them. Writes themselves happen on whichever thread calls ``ResponseStream/write(_:)``: an event usually
/// fits the socket at once and never touches this loop.
///
/// Why not keep the connections in libmicrohttpd: 0.9.75 keeps a whole per-connection memory pool (8 KiB by
/// default, all of it resident) for as long as a connection lives, and walks every suspended connection of a
/// daemon on each resume. A socket here costs an epoll entry in the kernel and the stream object.
final class StreamSocketLoop: Sendable {
    /// The descriptor libmicrohttpd's copy of a taken-over socket is pointed at (`dup2`): an unconnected TCP
    /// socket, so what libmicrohttpd does to it when it lets the connection go (`shutdown`, `close`) never reaches
    /// the client's connection.
    let placeholder: Int32
    /// How long a taken-over socket may hold unacknowledged bytes before it fails (`TCP_USER_TIMEOUT`).
    let unacknowledgedTimeout: Duration
    private let epoll: Int32
    /// An `eventfd` that wakes the loop to stop.
    private let wake: Int32
    private let streams = Mutex<[UInt64: ResponseStream]>([:])
    private let nextID = Atomic<UInt64>(1)
    private let stopped = Atomic<Bool>(false)
    /// Signalled when the loop's thread has returned.
    private let finished = Mutex<Bool>(false)

    /// The `epoll_event.data` of the wake-up descriptor; streams are numbered from 1.
    private static let wakeID: UInt64 = 0

    /// - Parameter unacknowledgedTimeout: see ``unacknowledgedTimeout`` (the server passes two heartbeats and a
    ///   margin: a live client acknowledges every heartbeat well within that).
    init(unacknowledgedTimeout: Duration) throws(HTTPServerError) {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        let wake = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        let placeholder = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard epoll >= 0, wake >= 0, placeholder >= 0 else {
            for descriptor in [epoll, wake, placeholder] where descriptor >= 0 { close(descriptor) }
            throw HTTPServerError(.libraryCall, "could not create the stream event loop (errno \(errno))")
        }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: Self.wakeID))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) == 0 else {
            for descriptor in [epoll, wake, placeholder] { close(descriptor) }
            throw HTTPServerError(.libraryCall, "could not create the stream event loop (errno \(errno))")
        }
        self.unacknowledgedTimeout = unacknowledgedTimeout
        self.epoll = epoll
        self.wake = wake
        self.placeholder = placeholder
    }

    /// Starts the loop's thread.
    func start() {
        Self.detachThread { [self] in
            run()
            finished.withLock { $0 = true }
        }
    }

    /// Stops the loop (streams still registered are left to their owners) and waits for its thread to return,
    /// then closes its descriptors. Call once, after the streams have ended.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt64 = 1
        _ = write(wake, &one, MemoryLayout<UInt64>.size)
        while !finished.withLock({ $0 }) { usleep(1_000) }
        close(epoll)
        close(wake)
        close(placeholder)
    }

    // MARK: - Registration (called by ResponseStream, under its lock)

    /// Watches `socket` for `stream`: a closed or reset client is reported to it. Returns the stream's number in
    /// this loop, or nil if the socket could not be added.
    func register(_ stream: ResponseStream, socket: Int32) -> UInt64? {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        streams.withLock { $0[id] = stream }
        var event = epoll_event(events: Self.baseEvents, data: epoll_data_t(u64: id))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) == 0 else {
            _ = streams.withLock { $0.removeValue(forKey: id) }
            return nil
        }
        return id
    }

    /// Also watches `socket` for room to write (`writable: true`), or stops watching for it.
    func watchWritable(_ socket: Int32, id: UInt64, _ writable: Bool) {
        var event = epoll_event(
            events: Self.baseEvents | (writable ? EPOLLOUT.rawValue : 0), data: epoll_data_t(u64: id))
        _ = epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event)
    }

    /// Forgets stream `id` (its socket is about to be closed, which takes it out of the epoll set).
    func unregister(_ id: UInt64) {
        _ = streams.withLock { $0.removeValue(forKey: id) }
    }

    /// Edge-triggered: a client that keeps sending wakes the loop once per burst, not for every byte left unread.
    private static let baseEvents = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue

    // MARK: - The loop

    private func run() {
        let capacity = 256
        var events = [epoll_event](repeating: epoll_event(), count: capacity)
        while !stopped.load(ordering: .acquiring) {
            let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32(capacity), -1) }
            guard count > 0 else { continue }  // EINTR
            for event in events[0..<Int(count)] {
                let id = event.data.u64
                guard id != Self.wakeID, let stream = streams.withLock({ $0[id] }) else { continue }
                let flags = event.events
                let gone = flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0
                stream.socketEvent(
                    id: id, clientClosed: gone, readable: flags & EPOLLIN.rawValue != 0,
                    writable: flags & EPOLLOUT.rawValue != 0)
            }
        }
    }

    private final class ThreadBody {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread (it blocks in `epoll_wait`; the cooperative pool must not).
    private static func detachThread(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            }, context)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }
}
