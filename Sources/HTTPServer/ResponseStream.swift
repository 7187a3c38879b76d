import CMicroHTTPD
import Synchronization

/// An open-ended response body (server-sent events): bytes written from any thread are sent in order.
///
/// Return it from a handler as `HTTPResponse(status: 200, headers: […], body: .stream(stream))`. Bytes written
/// before the server picks the response up are buffered and sent first. The server sends them chunked and never
/// compresses them. While there is nothing to send, the connection is suspended inside libmicrohttpd, so an idle
/// stream costs no CPU; a write resumes it. The server writes a heartbeat comment to every open stream
/// periodically, which is how a vanished client is noticed (a suspended socket is not watched).
///
/// ```swift
/// let stream = ResponseStream()
/// stream.write(Array("retry: 3000\n\n".utf8))
/// let token = hub.subscribe { event in stream.write(event.bytes) }
/// stream.onClose { hub.unsubscribe(token) }
/// return HTTPResponse(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(stream))
/// ```
public final class ResponseStream: Sendable {
    enum Phase: Sendable, Equatable {
        /// Accepting writes.
        case open
        /// ``finish()`` was called: pending bytes are flushed, then the body ends.
        case finishing
        /// The server let go of the response (or it never will): close handlers have run.
        case ended
    }

    struct State {
        var pending: [UInt8] = []
        /// Bytes of `pending` already handed to libmicrohttpd.
        var sent = 0
        var phase = Phase.open
        var attached = false
        /// The connection this stream is sent on, while attached.
        var connection: MHDConnection?
        /// True while the reader has suspended the connection; whoever flips it back to false must resume it.
        var suspended = false
        var closeHandlers: [@Sendable () -> Void] = []
        /// The server's bookkeeping hook, run once when the stream ends.
        var detach: (@Sendable () -> Void)?

        var hasPending: Bool { sent < pending.count }
    }

    let state = Mutex(State())

    public init() {}

    deinit {
        // Only reachable if the stream was never handed to a server (an attached stream is retained by it).
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.phase != .ended else { return [] }
            state.phase = .ended
            defer { state.closeHandlers = [] }
            return state.closeHandlers
        }
        for handler in handlers { handler() }
    }

    /// Queues `bytes` to be sent after everything written before.
    ///
    /// Safe from any thread, also before the response reaches the server.
    /// - Returns: false once the stream was finished or has ended (the bytes are dropped).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        let (accepted, resume) = state.withLock { state -> (Bool, MHDConnection?) in
            guard state.phase == .open else { return (false, nil) }
            state.pending.append(contentsOf: bytes)
            return (true, Self.takeResume(&state))
        }
        resume?.resume()
        return accepted
    }

    /// Ends the stream once every pending byte has been sent. Later writes return false.
    public func finish() {
        let resume = state.withLock { state -> MHDConnection? in
            guard state.phase == .open else { return nil }
            state.phase = .finishing
            return Self.takeResume(&state)
        }
        resume?.resume()
    }

    /// True until ``finish()`` is called or the stream ends.
    public var isOpen: Bool { state.withLock { $0.phase == .open } }

    /// Runs `handler` exactly once when the stream has ended for any reason: finished and flushed, client gone,
    /// or server shutdown. Runs it at once (on the calling thread) if the stream has already ended.
    public func onClose(_ handler: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            guard state.phase != .ended else { return true }
            state.closeHandlers.append(handler)
            return false
        }
        if runNow { handler() }
    }

    // MARK: - Server side

    /// If the connection is suspended, marks it resumed and returns it: the caller resumes it outside the lock.
    /// (Resuming a connection that is not suspended is undefined behaviour in libmicrohttpd.)
    private static func takeResume(_ state: inout State) -> MHDConnection? {
        guard state.suspended, let connection = state.connection else { return nil }
        state.suspended = false
        return connection
    }

    /// Binds the stream to the connection that will send it. False if it was already attached or has ended.
    func attach(to connection: MHDConnection, detach: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.attached, state.phase != .ended else { return false }
            state.attached = true
            state.connection = connection
            state.detach = detach
            return true
        }
    }

    /// Writes `bytes` only if nothing is pending (a heartbeat must not pile up behind a client that stopped reading).
    func writeHeartbeat(_ bytes: [UInt8]) {
        let resume = state.withLock { state -> MHDConnection? in
            guard state.phase == .open, !state.hasPending else { return nil }
            state.pending.append(contentsOf: bytes)
            return Self.takeResume(&state)
        }
        resume?.resume()
    }

    /// libmicrohttpd's content reader: copies pending bytes, ends the body when finished and drained, and
    /// otherwise suspends the connection (under the lock, so a concurrent write sees `suspended` only once the
    /// connection really is suspended).
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        state.withLock { state -> Int in
            if state.hasPending {
                let count = min(capacity, state.pending.count - state.sent)
                state.pending.withUnsafeBytes { source in
                    buffer.copyMemory(from: source.baseAddress! + state.sent, byteCount: count)
                }
                state.sent += count
                if state.sent == state.pending.count {
                    state.pending.removeAll(keepingCapacity: state.pending.capacity <= 16 * 1024)
                    state.sent = 0
                }
                return count
            }
            guard state.phase == .open, let connection = state.connection else {
                return Int(MHDConstants.endOfStream)
            }
            state.suspended = true
            connection.suspend()
            return 0
        }
    }

    /// Marks the stream ended (the server released it, or it will never be sent) and runs the close handlers.
    func markEnded() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.phase != .ended else { return [] }
            state.phase = .ended
            state.connection = nil
            state.suspended = false
            state.pending = []
            state.sent = 0
            var handlers = state.closeHandlers
            if let detach = state.detach { handlers.insert(detach, at: 0) }
            state.closeHandlers = []
            state.detach = nil
            return handlers
        }
        for handler in handlers { handler() }
    }
}
