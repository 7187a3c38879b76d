import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where the Redis tests get a server: `CLPR_TEST_REDIS_URL` (`redis://127.0.0.1:PORT/0`, started by `./test`).
/// Unset, the suites are disabled, except inside `./test` (`CLPR_TEST_SUITE=1`), where a missing Redis must fail
/// rather than skip.
public enum RedisTestConfiguration {
    public static let url: String? = ProcessInfo.processInfo.environment["CLPR_TEST_REDIS_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    public static let isRequired = ProcessInfo.processInfo.environment["CLPR_TEST_SUITE"] == "1"
    /// Whether the Redis suites run.
    public static let isEnabled = url != nil || isRequired

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "CLPR_TEST_REDIS_URL is not set: the Redis tests need a server (./test starts one with scripts/redis.sh)"
        }
    }

    /// The URL, or ``Missing``.
    public static func requireURL() throws -> String {
        guard let url else { throw Missing() }
        return url
    }

    /// `127.0.0.1` and the port of ``url``.
    public static func port(of url: String) -> UInt16? {
        let afterScheme = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""
        let hostPort = afterScheme.split(separator: "@").last ?? ""
        return hostPort.split(separator: ":").last.flatMap { UInt16($0) }
    }
}

/// A minimal RESP client on a blocking loopback socket, for tests that talk to Redis the way a workflow does
/// (`PUBLISH` from outside the server) and read `INFO`. Use it from ``offPool(_:)`` or through its async methods.
public final class RedisTestClient: @unchecked Sendable {
    /// A RESP reply.
    public indirect enum Reply: Sendable, Equatable {
        case string(String)
        case error(String)
        case integer(Int)
        case array([Reply])
        case null

        public var integer: Int? {
            if case .integer(let value) = self { return value }
            return nil
        }

        public var text: String? {
            if case .string(let value) = self { return value }
            return nil
        }
    }

    private let connection: TestConnection

    /// Connects to `127.0.0.1` on the port of `url`.
    public init(url: String) throws {
        guard let port = RedisTestConfiguration.port(of: url) else {
            throw TestConnection.Failure(description: "no port in \(url)")
        }
        connection = try TestConnection(port: port)
    }

    /// Sends one command and reads its reply (at most `timeout`).
    public func command(_ arguments: [[UInt8]], timeout: Duration = .seconds(5)) async throws -> Reply {
        try await connection.send(Self.encode(arguments))
        let deadline = ContinuousClock.now + timeout
        return try await offPool { try self.readReply(until: deadline) }
    }

    /// Sends one command of text arguments.
    public func command(_ arguments: String..., timeout: Duration = .seconds(5)) async throws -> Reply {
        try await command(arguments.map { Array($0.utf8) }, timeout: timeout)
    }

    /// `PUBLISH channel payload`; the number of subscribers that got it.
    @discardableResult
    public func publish(_ channel: String, _ payload: [UInt8]) async throws -> Int {
        let reply = try await command([Array("PUBLISH".utf8), Array(channel.utf8), payload])
        guard let count = reply.integer else { throw TestConnection.Failure(description: "PUBLISH: \(reply)") }
        return count
    }

    /// A field of `INFO section` (`connected_clients`).
    public func info(_ section: String, field: String) async throws -> Int? {
        guard let text = try await command("INFO", section).text else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1))
        }
        return nil
    }

    static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            bytes += Array("$\(argument.count)\r\n".utf8) + argument + [13, 10]
        }
        return bytes
    }

    private func readReply(until deadline: ContinuousClock.Instant) throws -> Reply {
        guard let line = connection.readLine(until: deadline), let kind = line.first else {
            throw TestConnection.Failure(description: "no reply from Redis")
        }
        let rest = String(line.dropFirst())
        switch kind {
        case "+": return .string(rest)
        case "-": return .error(rest)
        case ":": return .integer(Int(rest) ?? 0)
        case "$":
            guard let length = Int(rest), length >= 0 else { return .null }
            guard let body = connection.readBytes(length + 2, until: deadline) else {
                throw TestConnection.Failure(description: "short bulk reply")
            }
            return .string(String(decoding: body.prefix(length), as: UTF8.self))
        case "*":
            guard let count = Int(rest), count >= 0 else { return .null }
            return .array(try (0..<count).map { _ in try readReply(until: deadline) })
        default:
            throw TestConnection.Failure(description: "unexpected RESP line \(line.prefix(40))")
        }
    }
}

/// A `redis-server` of a test's own (loopback, no persistence) that it may stop and start again on the same port,
/// as a Redis restart in production would look.
public final class RedisTestServer: @unchecked Sendable {
    public let port: UInt16
    private var process: Process?

    /// `redis://127.0.0.1:<port>/0`.
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    deinit {
        // A test that failed before ``stop()``: no server may outlive the run.
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts a server on a free port.
    public init() async throws {
        port = try Self.freePort()
        try await start()
    }

    /// Starts the server (again) on ``port`` and waits until it answers `PING`.
    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let port = self.port
        let up = await eventually(timeout: .seconds(5), every: .milliseconds(20)) {
            guard let client = try? RedisTestClient(url: "redis://127.0.0.1:\(port)/0") else { return false }
            return (try? await client.command("PING", timeout: .milliseconds(500))) == .string("PONG")
        }
        guard up else { throw TestConnection.Failure(description: "redis-server did not start on port \(port)") }
    }

    /// Stops the server (`SHUTDOWN NOSAVE`; SIGKILL if it is still there after 3 s) and waits for it to exit.
    /// Not SIGTERM: a child spawned from the test runner inherits its blocked signal mask.
    public func stop() async {
        guard let process else { return }
        self.process = nil
        if let client = try? RedisTestClient(url: url) {
            _ = try? await client.command("SHUTDOWN", "NOSAVE", timeout: .seconds(1))
        }
        if !(await eventually(timeout: .seconds(3), every: .milliseconds(10)) { !process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
        }
        _ = try? await offPool { process.waitUntilExit() }
    }

    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestConnection.Failure(description: "no free port") }
        return UInt16(bigEndian: address.sin_port)
    }
}
