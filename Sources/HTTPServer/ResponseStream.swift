import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An open-ended response body (server-sent events): bytes written from any thread are sent in order.
///
/// Return it from a handler as `HTTPResponse(status: 200, headers: […], body: .stream(stream))`. Bytes written
/// before the server picks the response up are buffered and sent first. The body is not chunked: it ends when the
/// server closes the connection (`Connection: close`). It is never compressed. While there is nothing to send, the
/// connection is suspended inside libmicrohttpd, so an idle stream costs no CPU.
///
/// A write to a suspended stream goes straight to its socket (one `send`) and the connection stays suspended: resuming it would cost a walk over every suspended connection of
/// its event loop in libmicrohttpd 0.9.75, paid per event. Only when the socket cannot take the whole write at
/// once does the stream fall back to resuming the connection and letting libmicrohttpd send the bytes.
/// The server writes a heartbeat comment to every open stream periodically, which is how a vanished client is
/// noticed (a suspended socket is not watched): first a peek for its FIN, then the send, whose failure ends the
/// stream.
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
        /// The connection's socket, written directly while the connection is suspended and nothing is pending.
        var socket: Int32 = -1
        /// A direct send failed or the client closed: the reader ends the body with an error (the connection is
        /// closed, the close handlers run).
        var clientGone = false
        /// False after libmicrohttpd sent bytes (it may have left the socket corked): set back when suspending.
        var socketReady = false
        /// Writes that went straight to the socket (for tests: proof that the direct path is taken).
        var directSends = 0
        var closeHandlers: [@Sendable () -> Void] = []
        /// The server's bookkeeping hook, run once when the stream ends.
        var detach: (@Sendable () -> Void)?
        /// Resumes a finished stream's connection soon, together with others (see ``ServerCore/resumeSoon(_:)``).
        var resumeLater: (@Sendable (MHDConnection) -> Void)?

        var hasPending: Bool { sent < pending.count }
    }

    /// The largest write sent directly (events are small; a larger write goes through libmicrohttpd).
    static let directSendLimit = 4096
    /// Direct sends stop while this many bytes wait unacknowledged in the socket (a client that fell behind is
    /// served through libmicrohttpd, which waits for the socket to drain).
    static let directQueueLimit: Int32 = 64 * 1024
    /// How long a direct send may wait to complete a write the socket took only part of.
    static let partialWriteTimeout = Duration.milliseconds(200)

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
            if Self.sendDirectly(bytes, &state) { return (true, nil) }
            state.pending.append(contentsOf: bytes)
            return (true, Self.takeResume(&state))
        }
        resume?.resume()
        return accepted
    }

    /// Ends the stream once every pending byte has been sent. Later writes return false.
    public func finish() {
        let (resume, resumeLater) = state.withLock { state -> (MHDConnection?, (@Sendable (MHDConnection) -> Void)?) in
            guard state.phase == .open else { return (nil, nil) }
            state.phase = .finishing
            return (Self.takeResume(&state), state.resumeLater)
        }
        guard let resume else { return }
        // Everything written is already on the socket; only the close is left, and it can wait for a batch.
        if let resumeLater { resumeLater(resume) } else { resume.resume() }
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
    func attach(
        to connection: MHDConnection, socket: Int32, resumeLater: (@Sendable (MHDConnection) -> Void)? = nil,
        detach: @escaping @Sendable () -> Void
    ) -> Bool {
        state.withLock { state in
            guard !state.attached, state.phase != .ended else { return false }
            state.attached = true
            state.connection = connection
            state.socket = socket
            state.detach = detach
            state.resumeLater = resumeLater
            return true
        }
    }

    /// Writes `bytes` only if nothing is pending (a heartbeat must not pile up behind a client that stopped reading).
    /// A suspended stream whose client has closed its end is ended instead.
    func writeHeartbeat(_ bytes: [UInt8]) {
        let resume = state.withLock { state -> MHDConnection? in
            guard state.phase == .open, !state.hasPending else { return nil }
            if state.suspended, state.socket >= 0, !state.clientGone, Self.peerHasClosed(state.socket) {
                state.clientGone = true
                return Self.takeResume(&state)
            }
            if Self.sendDirectly(bytes, &state) { return nil }
            state.pending.append(contentsOf: bytes)
            return Self.takeResume(&state)
        }
        resume?.resume()
    }

    // MARK: - Direct sends

    /// Sends `bytes` straight to the socket if the connection is suspended with nothing pending, the write is small
    /// and the socket is not backed up. True if sent. False: the caller queues the bytes and resumes the
    /// connection, and libmicrohttpd sends them, or, if the send showed the client gone (`clientGone` set), the
    /// reader ends the body with an error.
    private static func sendDirectly(_ bytes: [UInt8], _ state: inout State) -> Bool {
        guard state.suspended, !state.hasPending, !state.clientGone, state.socket >= 0,
            !bytes.isEmpty, bytes.count <= directSendLimit
        else { return false }
        var queued: Int32 = 0
        guard ioctl(state.socket, UInt(TIOCOUTQ), &queued) == 0, queued <= directQueueLimit else { return false }
        let socket = state.socket
        let sent = bytes.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return false }
        // A part sent is completed here, before anything else can be written (a heartbeat or event must not land
        // inside another one).
        if sent >= 0, sent == bytes.count || finish(bytes[sent...], on: socket) {
            state.directSends += 1
            return true
        }
        // The client is gone, or stalled in the middle of a write: either way the connection closes. The bytes
        // count as written, like bytes queued on a socket whose client then vanishes.
        state.clientGone = true
        return false
    }

    /// Sends the rest of a partly sent write, waiting for the socket up to ``partialWriteTimeout`` (a client whose
    /// buffer filled just now is reading; one that does not drain a few kilobytes in that time is taken as gone).
    private static func finish(_ rest: ArraySlice<UInt8>, on socket: Int32) -> Bool {
        var rest = rest
        let deadline = ContinuousClock.now + partialWriteTimeout
        while !rest.isEmpty {
            let sent = rest.withUnsafeBytes {
                send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                rest = rest.dropFirst(sent)
                continue
            }
            guard sent < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return false }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, Int32(max(1, left / .milliseconds(1))))
        }
        return true
    }

    /// True if the client has closed its end (a peek reads end-of-file) or the connection was reset.
    private static func peerHasClosed(_ socket: Int32) -> Bool {
        var byte: UInt8 = 0
        let received = recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if received == 0 { return true }
        return received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
    }

    /// Makes the socket send each write at once: libmicrohttpd may have corked it (or left Nagle on) expecting
    /// more bytes of its own; direct sends come later and one at a time.
    private static func prepareForDirectSends(_ socket: Int32) {
        var off: Int32 = 0
        var on: Int32 = 1
        let size = socklen_t(MemoryLayout<Int32>.size)
        _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_CORK, &off, size)
        _ = setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &on, size)
    }

    /// libmicrohttpd's content reader: copies pending bytes, ends the body when finished and drained, and
    /// otherwise suspends the connection (under the lock, so a concurrent write sees `suspended` only once the
    /// connection really is suspended).
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        state.withLock { state -> Int in
            if state.clientGone { return Int(MHDConstants.endWithError) }
            if state.hasPending {
                state.socketReady = false
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
            if !state.socketReady, state.socket >= 0 {
                Self.prepareForDirectSends(state.socket)
                state.socketReady = true
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
            state.socket = -1
            state.suspended = false
            state.pending = []
            state.sent = 0
            var handlers = state.closeHandlers
            if let detach = state.detach { handlers.insert(detach, at: 0) }
            state.closeHandlers = []
            state.detach = nil
            state.resumeLater = nil
            return handlers
        }
        for handler in handlers { handler() }
    }
}
