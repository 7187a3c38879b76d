import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP/1.1 connection on a raw blocking socket to `127.0.0.1`, for live tests: full control over headers,
/// framing, incremental reading (server-sent events) and abrupt disconnects.
///
/// Every blocking call runs on a thread of its own (``offPool(_:)``), never on the cooperative pool: the server's
/// handlers run as tasks there, and a test blocked in `recv` on a pool thread would starve them.
/// Used by one task at a time, hence `@unchecked Sendable`.
public final class TestConnection: @unchecked Sendable {
    /// A socket-level failure (connect, send, a connection that ended mid-message).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let socket: Int32
    private var buffer: [UInt8] = []
    /// True once `recv` returned 0 (the server closed its side).
    public private(set) var isClosedByPeer = false
    /// The peer reset the connection (rather than closing it after its last byte).
    public private(set) var wasReset = false

    /// Connects to `127.0.0.1:port`.
    /// - Throws: ``Failure`` when the connection cannot be made.
    public init(port: UInt16) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw Failure(description: "connect() failed: errno \(errno)")
        }
        // Short receive slices: every read loop checks its own deadline between them.
        var slice = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    /// Closes the connection at once with an RST (`SO_LINGER` 0), like a vanished client.
    public func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(socket, Int32(SHUT_RDWR))
    }

    /// Sends `bytes` completely.
    public func send(_ bytes: [UInt8]) async throws {
        try await offPool { try self.sendSync(bytes) }
    }

    private func sendSync(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw Failure(description: "send() failed: errno \(errno)") }
            offset += sent
        }
    }

    // MARK: - Reading (blocking; call from ``offPool(_:)`` only)

    /// Reads more bytes into the buffer, waiting at most one receive slice. False on EOF or an empty slice.
    @discardableResult
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count == 0 { isClosedByPeer = true }
        if count < 0, errno == ECONNRESET || errno == EPIPE {
            isClosedByPeer = true
            wasReset = true
        }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    /// Waits for more bytes until `deadline`; false on EOF or when the deadline passed.
    func fill(until deadline: ContinuousClock.Instant) -> Bool {
        while ContinuousClock.now < deadline {
            if fill() { return true }
            if isClosedByPeer { return false }
        }
        return false
    }

    /// A CRLF-terminated line without the CRLF, or nil at EOF / the deadline.
    func readLine(until deadline: ContinuousClock.Instant) -> String? {
        while true {
            if let index = indexOf([13, 10]) {
                let line = String(decoding: buffer[..<index], as: UTF8.self)
                buffer.removeSubrange(..<(index + 2))
                return line
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// Exactly `count` bytes, or nil at EOF / the deadline.
    func readBytes(_ count: Int, until deadline: ContinuousClock.Instant) -> [UInt8]? {
        while buffer.count < count {
            guard fill(until: deadline) else { return nil }
        }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    /// Everything until the peer closes (or the deadline).
    func readToEnd(until deadline: ContinuousClock.Instant) -> [UInt8] {
        while fill(until: deadline) {}
        defer { buffer = [] }
        return buffer
    }

    private func indexOf(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for start in 0...(buffer.count - needle.count)
        where buffer[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    /// The status line and header fields of a response.
    func readHeadSync(until deadline: ContinuousClock.Instant) throws -> TestResponse {
        guard let statusLine = readLine(until: deadline) else {
            throw Failure(description: "no response (connection ended or timed out)")
        }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw Failure(description: "bad status line: \(statusLine)")
        }
        var headers: [TestResponse.Header] = []
        while true {
            guard let line = readLine(until: deadline) else {
                throw Failure(description: "connection ended inside the response head")
            }
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " })
            headers.append(TestResponse.Header(name: String(line[..<colon]), value: String(value)))
        }
        return TestResponse(status: status, headers: headers, body: [])
    }

    /// One chunk of a chunked body: its bytes, `[]` for the final (empty) chunk, nil at EOF / the deadline.
    /// Nothing is consumed until a whole chunk has arrived, so a timeout can be followed by another read.
    func readChunkSync(until deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        while true {
            if let chunk = try takeChunk() { return chunk }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// Whatever bytes have arrived (waiting for at least one); `[]` once the peer has closed and everything was
    /// read, nil at the deadline.
    func readAvailableSync(until deadline: ContinuousClock.Instant) -> [UInt8]? {
        if buffer.isEmpty, !fill(until: deadline) { return isClosedByPeer ? [] : nil }
        defer { buffer = [] }
        return buffer
    }

    /// Parses and removes one complete chunk from the buffer; nil if it has not fully arrived yet.
    private func takeChunk() throws -> [UInt8]? {
        guard let lineEnd = indexOf([13, 10]) else { return nil }
        let sizeLine = String(decoding: buffer[..<lineEnd], as: UTF8.self)
        guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
            throw Failure(description: "bad chunk size line: \(sizeLine)")
        }
        // The final chunk is followed by an empty trailer line: `0\r\n\r\n`.
        let start = lineEnd + 2
        let end = start + size + 2
        guard buffer.count >= end else { return nil }
        let bytes = Array(buffer[start..<(start + size)])
        buffer.removeSubrange(..<end)
        return bytes
    }

    /// A complete response: head plus a body framed by `Content-Length`, chunking or the connection's end.
    func readResponseSync(method: String, until deadline: ContinuousClock.Instant) throws -> TestResponse {
        var response = try readHeadSync(until: deadline)
        if method == "HEAD" || response.status == 204 || response.status == 304 || response.status < 200 {
            return response
        }
        if response[header: "Transfer-Encoding"]?.lowercased() == "chunked" {
            while true {
                guard let chunk = try readChunkSync(until: deadline) else {
                    throw Failure(description: "chunked body ended early")
                }
                if chunk.isEmpty { break }
                response.body += chunk
            }
        } else if let length = response[header: "Content-Length"].flatMap({ Int($0) }) {
            guard let body = readBytes(length, until: deadline) else {
                throw Failure(description: "body shorter than Content-Length \(length)")
            }
            response.body = body
        } else {
            response.body = readToEnd(until: deadline)
        }
        return response
    }
}

/// Runs blocking `body` on a thread of its own and awaits its result. (Not Dispatch: on Linux its pool grows only
/// slowly when threads block, so a few blocked reads delay everything else by seconds.)
public func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Polls `condition` until it holds or `timeout` passes; the condition's last value.
public func eventually(
    timeout: Duration = .seconds(3), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
