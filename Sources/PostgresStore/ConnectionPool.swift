import AppCore
import Dispatch
import Synchronization

/// A fixed number of libpq connections, each with its own serial `DispatchQueue`.
///
/// An operation borrows a free slot (or waits, first come first served, until one is returned), then runs its
/// synchronous body on that slot's queue and resumes the caller's continuation: blocking libpq calls never run
/// on Swift's cooperative pool, and each connection is used by one thread at a time. Connections are opened on
/// first use and reset when found broken, so a restarted server or a killed backend costs one failed operation
/// at most, never the pool.
final class ConnectionPool: Sendable {
    /// One connection's home: its queue, and the connection itself (touched only on that queue).
    private final class Slot: Sendable {
        struct State {
            var connection: PostgresConnection?
            var isClosed = false
        }

        let queue: DispatchQueue
        let state: Mutex<State>

        init(index: Int, connection: sending PostgresConnection?) {
            queue = DispatchQueue(label: "clpr.postgres-store.connection-\(index)")
            state = Mutex(State(connection: connection))
        }
    }

    private struct State {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int, any Error>] = []
        var isClosed = false
    }

    private let configuration: PostgresStore.Configuration
    private let slots: [Slot]
    private let state: Mutex<State>

    /// Creates the pool with `configuration.poolSize` slots; `first`, if given, becomes slot 0's connection.
    init(configuration: PostgresStore.Configuration, first: sending PostgresConnection?) {
        self.configuration = configuration
        var slots = [Slot(index: 0, connection: first)]
        for index in 1..<max(1, configuration.poolSize) { slots.append(Slot(index: index, connection: nil)) }
        self.slots = slots
        self.state = Mutex(State(idle: Array((0..<slots.count).reversed())))
    }

    /// Borrows a connection, runs `body` with it on the connection's own thread and returns its result.
    /// - Throws: ``StoreError/Code/unavailable`` when the pool is closed or the server cannot be reached;
    ///   otherwise what `body` throws, unchanged.
    func withConnection<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let index = try await acquire(operation)
        defer { release(index) }
        let slot = slots[index]
        let configuration = self.configuration
        return try await withCheckedThrowingContinuation { continuation in
            slot.queue.async {
                continuation.resume(
                    with: Result {
                        try slot.state.withLock { state in
                            guard !state.isClosed else {
                                throw StoreError(.unavailable, operation: operation, detail: "store is closed")
                            }
                            let connection: PostgresConnection
                            if let existing = state.connection {
                                connection = existing
                                try connection.ensureUsable(operation)
                            } else {
                                connection = try PostgresConnection(configuration: configuration)
                                state.connection = connection
                            }
                            return try body(connection)
                        }
                    })
            }
        }
    }

    /// Closes every connection (waiting for running operations to finish) and fails waiting and later borrowers
    /// with ``StoreError/Code/unavailable``. Calling it twice is harmless.
    func close() {
        let waiters = state.withLock { state in
            state.isClosed = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume(throwing: StoreError(.unavailable, operation: "borrow connection", detail: "store is closed"))
        }
        for slot in slots {
            slot.queue.sync {
                slot.state.withLock { state in
                    state.connection?.close()
                    state.connection = nil
                    state.isClosed = true
                }
            }
        }
    }

    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Connections lent out right now (slots that are not idle).
    var inUse: Int { slots.count - state.withLock { $0.idle.count } }

    private func acquire(_ operation: String) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let immediate: Result<Int, StoreError>? = state.withLock { state in
                if state.isClosed {
                    return .failure(StoreError(.unavailable, operation: operation, detail: "store is closed"))
                }
                if let index = state.idle.popLast() { return .success(index) }
                state.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    private func release(_ index: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Int, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.idle.append(index)
            return nil
        }
        waiter?.resume(returning: index)
    }
}
