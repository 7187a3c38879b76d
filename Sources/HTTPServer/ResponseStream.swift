import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An open-ended response body (server-sent events): bytes written from any thread are sent in order.
///
/// Return it from a handler as `HTTPResponse(status: 200, headers: […], body: .stream(stream))`. Bytes written
/// before the server picks the response up are buffered and sent first. The body is not chunked: it ends when the
/// server closes the connection (`Connection: close`). It is never compressed.
///
/// libmicrohttpd sends the response head and whatever was written before it. As soon as it asks for more and
/// nothing is pending, the server takes the socket over: it keeps a duplicate of the descriptor, points
/// libmicrohttpd's own descriptor at a placeholder and lets libmicrohttpd finish the connection (which frees its
/// memory pool). From then on a write is one non-blocking `send` on the calling thread; what the socket cannot take
/// at once waits in the stream and is sent by ``StreamSocketLoop`` when there is room. The loop also reports a
/// client that closes its end, at once.
///
/// The server writes a heartbeat comment to every open stream periodically (for proxies, and to notice a client
/// that vanished without closing). A client that has taken nothing of what is pending since the previous heartbeat
/// is taken as gone.
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
        /// Bytes of `pending` already sent (or handed to libmicrohttpd).
        var sent = 0
        var phase = Phase.open
        var attached = false
        /// The connection that sends the head, until the socket is taken over.
        var connection: MHDConnection?
        /// libmicrohttpd's descriptor of the connection's socket.
        var librarySocket: Int32 = -1
        /// The server's own descriptor of the socket once taken over (-1 before and after).
        var socket: Int32 = -1
        /// The stream's number in `loop` while its socket is watched there.
        var loopID: UInt64 = 0
        var loop: StreamSocketLoop?
        /// Bytes sent on the taken-over socket, and their count at the previous heartbeat (a client that takes
        /// nothing of what is pending between two heartbeats is gone).
        var socketBytesSent = 0
        var socketBytesSentAtHeartbeat = 0
        /// Sends on the taken-over socket (for tests: proof that writes take that path).
        var directSends = 0
        var closeHandlers: [@Sendable () -> Void] = []
        /// The server's bookkeeping hook, run once when the stream ends (told whether the socket was taken over).
        var detach: (@Sendable (Bool) -> Void)?
        /// Told the connection whose socket was taken over (on libmicrohttpd's thread, before it can close it).
        var tookOver: (@Sendable (MHDConnection) -> Void)?
        /// Told the `errno` of a take-over that failed (the stream then ends after its head).
        var takeOverFailed: (@Sendable (Int32) -> Void)?
        /// True once the socket was taken over.
        var wasTakenOver = false
        /// Resumes the connection soon, together with others (see ``ServerCore/resumeSoon(_:)``).
        var resumeLater: (@Sendable (MHDConnection) -> Void)?

        var hasPending: Bool { sent < pending.count }
        var ownsSocket: Bool { socket >= 0 }
    }

    /// Bytes a stream may hold for a client that reads slower than it is written to; past this the client is
    /// taken as gone (a plan is a few kilobytes; this is hundreds of them).
    static let pendingLimit = 16 << 20

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
        var handlers: [@Sendable () -> Void] = []
        let accepted = state.withLock { state -> Bool in
            guard state.phase == .open else { return false }
            guard !bytes.isEmpty else { return true }
            if state.ownsSocket {
                if !Self.send(bytes, &state) { handlers = Self.closeSocket(&state) }
            } else {
                state.pending.append(contentsOf: bytes)
            }
            return true
        }
        for handler in handlers { handler() }
        return accepted
    }

    /// Ends the stream once every pending byte has been sent. Later writes return false.
    public func finish() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.phase == .open else { return [] }
            state.phase = .finishing
            // Before the take-over libmicrohttpd ends the body once it has read everything pending.
            guard state.ownsSocket, !state.hasPending else { return [] }
            return Self.closeSocket(&state)
        }
        for handler in handlers { handler() }
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

    /// Binds the stream to the connection that will send its head, and to the loop that takes its socket over
    /// afterwards. False if it was already attached or has ended.
    func attach(
        to connection: MHDConnection, socket: Int32, loop: StreamSocketLoop,
        resumeLater: @escaping @Sendable (MHDConnection) -> Void,
        tookOver: @escaping @Sendable (MHDConnection) -> Void,
        takeOverFailed: @escaping @Sendable (Int32) -> Void, detach: @escaping @Sendable (Bool) -> Void
    ) -> Bool {
        state.withLock { state in
            guard !state.attached, state.phase != .ended else { return false }
            state.attached = true
            state.connection = connection
            state.librarySocket = socket
            state.loop = loop
            state.detach = detach
            state.tookOver = tookOver
            state.takeOverFailed = takeOverFailed
            state.resumeLater = resumeLater
            return true
        }
    }

    /// Writes `bytes` if nothing is pending (a heartbeat must not pile up behind a client that stopped reading).
    /// A client that took nothing of what was pending since the previous heartbeat is taken as gone, also once the
    /// stream is finished (its last bytes waiting).
    func writeHeartbeat(_ bytes: [UInt8]) {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.phase != .ended, state.ownsSocket else { return [] }
            defer { state.socketBytesSentAtHeartbeat = state.socketBytesSent }
            if state.hasPending {
                guard state.socketBytesSent == state.socketBytesSentAtHeartbeat else { return [] }
                return Self.closeSocket(&state)
            }
            guard state.phase == .open else { return [] }
            return Self.send(bytes, &state) ? [] : Self.closeSocket(&state)
        }
        for handler in handlers { handler() }
    }

    /// libmicrohttpd's content reader: copies pending bytes; when nothing is pending, ends the body if the stream
    /// is finished, and otherwise takes the socket over (see the type's documentation).
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        var handlers: [@Sendable () -> Void] = []
        defer { for handler in handlers { handler() } }
        return state.withLock { state -> Int in
            func failed() {
                let failure = errno
                if let report = state.takeOverFailed { handlers.append { report(failure) } }
                handlers += Self.end(&state)
            }
            if state.hasPending, !state.ownsSocket {
                let count = min(capacity, state.pending.count - state.sent)
                state.pending.withUnsafeBytes { source in
                    buffer.copyMemory(from: source.baseAddress! + state.sent, byteCount: count)
                }
                state.sent += count
                if state.sent == state.pending.count { Self.dropSent(&state) }
                return count
            }
            guard state.phase == .open, !state.ownsSocket, let connection = state.connection,
                let loop = state.loop, let resumeLater = state.resumeLater
            else {
                // Finished, or taken over already (libmicrohttpd now holds the placeholder): its part is done.
                return Int(MHDConstants.endOfStream)
            }
            switch takeOver(connection, loop: loop, &state) {
            case .tookOver:
                break
            case .failedBeforeSuspending:
                failed()
                return Int(MHDConstants.endWithError)
            case .failedSuspended:
                // The connection is suspended: it must be resumed, and then it ends (the stream has).
                failed()
            }
            resumeLater(connection)
            return 0
        }
    }

    private enum TakeOver { case tookOver, failedBeforeSuspending, failedSuspended }

    /// Takes the socket from libmicrohttpd (called from its reader, on its thread, with nothing pending).
    private func takeOver(_ connection: MHDConnection, loop: StreamSocketLoop, _ state: inout State) -> TakeOver {
        let library = state.librarySocket
        guard library >= 0 else { return .failedBeforeSuspending }
        let own = fcntl(library, F_DUPFD_CLOEXEC, 0)
        guard own >= 0 else { return .failedBeforeSuspending }
        // Suspending takes libmicrohttpd's descriptor out of its epoll set while it still names the client's
        // socket; only then may that descriptor be pointed at the placeholder. Resumed, libmicrohttpd sees a dead
        // socket, asks for the body (which has ended for it) and closes its placeholder copy.
        connection.suspend()
        guard dup2(loop.placeholder, library) >= 0, let id = loop.register(self, socket: own) else {
            close(own)
            return .failedSuspended
        }
        state.socket = own
        state.loopID = id
        state.connection = nil
        state.librarySocket = -1
        state.wasTakenOver = true
        state.tookOver?(connection)
        Self.prepareForDirectSends(own, unacknowledgedTimeout: loop.unacknowledgedTimeout)
        return .tookOver
    }

    /// Sends `bytes` now, or as much as the socket takes and keeps the rest pending (watched by the loop). False if
    /// the client is gone (or has fallen more than ``pendingLimit`` behind).
    private static func send(_ bytes: [UInt8], _ state: inout State) -> Bool {
        if state.hasPending {
            guard state.pending.count - state.sent + bytes.count <= pendingLimit else { return false }
            state.pending.append(contentsOf: bytes)
            return true
        }
        let sent = bytes.withUnsafeBytes {
            Glibc.send(state.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        if sent < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR { return false }
        state.directSends += 1
        let count = max(sent, 0)
        state.socketBytesSent += count
        guard count < bytes.count else { return true }
        state.pending.append(contentsOf: bytes[count...])
        state.sent = 0
        state.loop?.watchWritable(state.socket, id: state.loopID, true)
        return true
    }

    /// Sends what is pending as far as the socket takes it. False if the client is gone.
    private static func flush(_ state: inout State) -> Bool {
        while state.hasPending {
            let sent = state.pending.withUnsafeBytes { source in
                Glibc.send(
                    state.socket, source.baseAddress! + state.sent, source.count - state.sent,
                    Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
            state.sent += sent
            state.socketBytesSent += sent
        }
        dropSent(&state)
        state.loop?.watchWritable(state.socket, id: state.loopID, false)
        return true
    }

    private static func dropSent(_ state: inout State) {
        state.pending.removeAll(keepingCapacity: state.pending.capacity <= 16 * 1024)
        state.sent = 0
    }

    /// ``StreamSocketLoop``: something happened on the taken-over socket `id`.
    func socketEvent(id: UInt64, clientClosed: Bool, readable: Bool, writable: Bool) {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard state.phase != .ended, state.ownsSocket, state.loopID == id else { return [] }
            if clientClosed || (readable && !Self.discardInput(state.socket)) { return Self.closeSocket(&state) }
            if writable {
                guard Self.flush(&state) else { return Self.closeSocket(&state) }
                if state.phase == .finishing, !state.hasPending { return Self.closeSocket(&state) }
            }
            return []
        }
        for handler in handlers { handler() }
    }

    /// Reads and drops whatever the client sent after its request (at most `limit` bytes: a client that floods
    /// must not hold the loop; what is left wakes the loop again with its next bytes, or is dropped at the close).
    /// False if it has closed its end.
    private static func discardInput(_ socket: Int32, limit: Int = 64 * 1024) -> Bool {
        // On the stack: every stream's close comes through here.
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 1) { scratch in
            var taken = 0
            while taken < limit {
                let received = recv(socket, scratch.baseAddress, scratch.count, Int32(MSG_DONTWAIT))
                if received > 0 {
                    taken += received
                    continue
                }
                if received == 0 { return false }
                return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
            }
            return true
        }
    }

    /// Closes the taken-over socket (a FIN: unread input is dropped first, or the close would be a reset) and ends
    /// the stream. Returns the close handlers, to be run outside the lock.
    private static func closeSocket(_ state: inout State) -> [@Sendable () -> Void] {
        if state.ownsSocket {
            state.loop?.unregister(state.loopID)
            _ = discardInput(state.socket, limit: 1 << 20)
            close(state.socket)
            state.socket = -1
        }
        return end(&state)
    }

    /// Makes the socket send each write at once: libmicrohttpd may have corked it (or left Nagle on) expecting
    /// more bytes of its own; the stream's writes come later and one at a time. A client that vanished without a
    /// FIN or reset (its network gone) leaves heartbeats unacknowledged: `TCP_USER_TIMEOUT` fails the socket after
    /// `unacknowledgedTimeout` instead of the minutes of TCP's own retransmissions.
    private static func prepareForDirectSends(_ socket: Int32, unacknowledgedTimeout: Duration) {
        var off: Int32 = 0
        var on: Int32 = 1
        let (seconds, attoseconds) = unacknowledgedTimeout.components
        var timeout = UInt32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let size = socklen_t(MemoryLayout<Int32>.size)
        _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_CORK, &off, size)
        _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, size)
        _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &timeout, socklen_t(MemoryLayout<UInt32>.size))
    }

    /// libmicrohttpd let go of the response: the stream ends, unless its socket was taken over.
    func libraryReleased() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            state.connection = nil
            state.librarySocket = -1
            guard !state.ownsSocket else { return [] }
            return Self.end(&state)
        }
        for handler in handlers { handler() }
    }

    /// Marks the stream ended (the server released it, or it will never be sent) and runs the close handlers.
    func markEnded() {
        let handlers = state.withLock { state in Self.closeSocket(&state) }
        for handler in handlers { handler() }
    }

    private static func end(_ state: inout State) -> [@Sendable () -> Void] {
        guard state.phase != .ended else { return [] }
        state.phase = .ended
        state.connection = nil
        state.pending = []
        state.sent = 0
        state.loop = nil
        state.loopID = 0
        var handlers = state.closeHandlers
        if let detach = state.detach {
            let tookOver = state.wasTakenOver
            handlers.insert({ detach(tookOver) }, at: 0)
        }
        state.closeHandlers = []
        state.detach = nil
        state.tookOver = nil
        state.takeOverFailed = nil
        state.resumeLater = nil
        return handlers
    }
}
