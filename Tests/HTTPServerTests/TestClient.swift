import Foundation
import HTTPServer
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP/1.1 client on a raw blocking socket, so tests control keep-alive, framing and disconnects.
///
/// Every blocking call runs on a thread of its own, never on the cooperative pool: the server's handlers run as
/// tasks there, and a test blocked in `recv` on one of the (two) pool threads would starve them.
/// Used by one test at a time, hence `@unchecked Sendable`.
final class TestClient: @unchecked Sendable {
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        subscript(header name: String) -> String? {
            headers.first(where: { $0.name.lowercased() == name.lowercased() })?.value
        }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let socket: Int32
    private var buffer: [UInt8] = []
    private(set) var isClosedByPeer = false

    init(port: UInt16, receiveTimeout: Duration = .seconds(5)) throws {
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
        setReceiveTimeout(receiveTimeout)
    }

    deinit { close(socket) }

    func setReceiveTimeout(_ timeout: Duration) {
        let micros = timeout / .microseconds(1)
        var value = timeval(tv_sec: Int(micros) / 1_000_000, tv_usec: Int(micros) % 1_000_000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Closes the socket at once with an RST (SO_LINGER 0), like a vanished client.
    func abort() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        shutdown(socket, Int32(SHUT_RDWR))
    }

    /// Ends the sending side (a FIN), like a browser closing a tab; the socket can still be read.
    func closeSendingSide() {
        shutdown(socket, Int32(SHUT_WR))
    }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) async throws {
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

    /// Reads more bytes into the buffer. False on EOF or timeout.
    @discardableResult
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if count == 0 { isClosedByPeer = true }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[..<count])
        return true
    }

    private func readLine() throws -> String {
        while true {
            if let index = indexOf([13, 10]) {
                let line = String(decoding: buffer[..<index], as: UTF8.self)
                buffer.removeSubrange(..<(index + 2))
                return line
            }
            guard fill() else { throw Failure(description: "connection ended while reading a line") }
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard fill() else { throw Failure(description: "connection ended while reading \(count) bytes") }
        }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    private func indexOf(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for start in 0...(buffer.count - needle.count)
        where buffer[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }

    /// Reads a complete response (Content-Length or chunked). `head` skips the body.
    func readResponse(head: Bool = false) async throws -> Response {
        try await offPool { try self.readResponseSync(head: head) }
    }

    private func readResponseSync(head: Bool) throws -> Response {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw Failure(description: "bad status line: \(statusLine)")
        }
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (
                    name: String(line[..<colon]),
                    value: String(line[line.index(after: colon)...].drop(while: { $0 == " " }))
                ))
        }
        var response = Response(status: status, headers: headers, body: [])
        if head || status == 304 || status == 204 || status < 200 { return response }
        if response[header: "Transfer-Encoding"]?.lowercased() == "chunked" {
            while true {
                let sizeLine = try readLine()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                    throw Failure(description: "bad chunk size: \(sizeLine)")
                }
                if size == 0 {
                    _ = try readLine()
                    break
                }
                response.body += try readBytes(size)
                _ = try readLine()
            }
        } else if let length = response[header: "Content-Length"].flatMap({ Int($0) }) {
            response.body = try readBytes(length)
        } else {
            while fill() {}
            response.body = buffer
            buffer = []
        }
        return response
    }

    /// Reads the status line and headers only (for streams).
    func readHead() async throws -> Response {
        try await readResponse(head: true)
    }

    /// Reads raw bytes until `needle` has arrived (or the deadline passes); returns everything read so far as text.
    @discardableResult
    func readUntil(_ needle: String, timeout: Duration = .seconds(5)) async -> String {
        await offPool { self.readUntilSync(needle, timeout: timeout) }
    }

    private func readUntilSync(_ needle: String, timeout: Duration) -> String {
        let bytes = Array(needle.utf8)
        let deadline = ContinuousClock.now + timeout
        while indexOf(bytes) == nil, ContinuousClock.now < deadline {
            if !fill(), isClosedByPeer { break }
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Reads until the peer closes the connection or the timeout passes; true if it closed.
    func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        await offPool { self.waitForCloseSync(timeout: timeout) }
    }

    private func waitForCloseSync(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isClosedByPeer, ContinuousClock.now < deadline { fill() }
        return isClosedByPeer
    }

    var received: String { String(decoding: buffer, as: UTF8.self) }
}

/// Runs blocking `body` on a thread of its own and awaits its result. (Not Dispatch: on Linux its pool grows
/// only slowly when threads block, so a few blocked reads delay everything else by seconds.)
func offPool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

func offPool<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// Starts a server on 127.0.0.1:0 with `router`, runs `body`, and shuts the server down.
func withServer<Result>(
    _ router: Router,
    configuration: HTTPServer.Configuration = HTTPServer.Configuration(port: 0),
    logHandler: InMemoryLogHandler = InMemoryLogHandler(),
    _ body: (HTTPServer) async throws -> Result
) async throws -> Result {
    var configuration = configuration
    configuration.port = 0
    let server = HTTPServer(
        configuration: configuration, router: router, logger: Logger(label: "test.http", handler: logHandler))
    try server.start()
    do {
        let result = try await body(server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A thread-safe flag/counter for callbacks.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
