import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The built `clpr` executable run as a child process, for what only a real process shows: its RSS, signals and
/// exit. The binary is the one built next to the test runner (`swift build --build-tests` builds both).
public final class ServerProcess: @unchecked Sendable {
    public let port: UInt16
    public let dataDirectory: String
    private let process: Process
    public let logPath: String

    /// `clpr` next to the running test binary.
    public static var binaryPath: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("clpr").path
    }

    /// A new empty data directory for ``seed(count:in:)`` and ``init(dataDirectory:environment:)``.
    public static func makeDataDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("clpr-process-\(UUID().uuidString.lowercased())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs `clpr bench-seed --count N` on `dataDirectory`: N submitted claims, each with its own session.
    /// - Returns: `(token, cookie)` per claim.
    public static func seed(
        count: Int, in dataDirectory: String, environment: [String: String] = [:]
    ) async throws -> [(token: String, cookie: String)] {
        let file = dataDirectory + "/tokens.tsv"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = ["bench-seed", "--count", String(count), "--tokens-file", file]
        process.environment = ["CLPR_DATA_DIR": dataDirectory, "CLPR_LOG_LEVEL": "warning"].merging(environment) {
            _, new in new
        }
        try process.run()
        try await offPool { process.waitUntilExit() }
        guard process.terminationStatus == 0 else {
            throw TestConnection.Failure(description: "bench-seed exited \(process.terminationStatus)")
        }
        return try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map { line in
            let parts = line.split(separator: "\t")
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    /// Starts `clpr serve` on a free loopback port with `environment` added, and waits until `/healthz` answers.
    public init(dataDirectory: String, environment: [String: String]) async throws {
        self.dataDirectory = dataDirectory
        port = try RedisTestServer.freePort()
        logPath = dataDirectory + "/server.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        process.arguments = ["serve"]
        var env = [
            "CLPR_DATA_DIR": dataDirectory, "CLPR_PORT": String(port), "CLPR_WEB_DIR": TestApplication.webDirectory,
            "CLPR_LOG_LEVEL": "warning",
        ]
        env.merge(environment) { _, new in new }
        process.environment = env
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        let port = self.port
        let up = await eventually(timeout: .seconds(10), every: .milliseconds(50)) {
            guard process.isRunning else { return false }
            return (try? await Self.get("/healthz", port: port, timeout: .seconds(1)).status) == 200
        }
        guard up else {
            process.terminate()
            throw TestConnection.Failure(description: "clpr serve did not come up: \(Self.tail(logPath))")
        }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var terminationStatus: Int32 { process.terminationStatus }

    /// The server's resident memory (VmRSS) in KiB.
    public var residentKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// One `GET` on a new connection.
    public func get(_ path: String) async throws -> TestResponse {
        try await Self.get(path, port: port, timeout: .seconds(5))
    }

    static func get(_ path: String, port: UInt16, timeout: Duration) async throws -> TestResponse {
        let connection = try TestConnection(port: port)
        try await connection.send(
            TestApplication.head("GET", path, host: "127.0.0.1:\(port)", headers: [], body: nil, cookie: nil))
        let deadline = ContinuousClock.now + timeout
        return try await offPool { try connection.readResponseSync(method: "GET", until: deadline) }
    }

    /// Opens a plan stream and reads its head.
    public func openStream(token: String, cookie: String, timeout: Duration = .seconds(10)) async throws -> EventStream
    {
        let connection = try TestConnection(port: port)
        try await connection.send(
            TestApplication.head(
                "GET", "/api/v1/claim-plan/\(token)", host: "127.0.0.1:\(port)",
                headers: [("Accept", "text/event-stream")], body: nil, cookie: cookie))
        let deadline = ContinuousClock.now + timeout
        let head = try await offPool { try connection.readHeadSync(until: deadline) }
        return EventStream(connection: connection, head: head)
    }

    /// Sends `signal` and waits for the process to exit (at most `timeout`).
    /// - Returns: how long the exit took, or nil if it did not exit in time (then it is killed).
    public func signal(_ signal: Int32, timeout: Duration) async throws -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        kill(process.processIdentifier, signal)
        let exited = await eventually(timeout: timeout, every: .milliseconds(10)) { !self.process.isRunning }
        guard exited else {
            kill(process.processIdentifier, SIGKILL)
            try await offPool { self.process.waitUntilExit() }
            return nil
        }
        return clock.now - start
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s) and deletes its data directory.
    public func stop() async {
        if process.isRunning { _ = try? await signal(SIGTERM, timeout: .seconds(5)) }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// The last lines of the server's log.
    public var logTail: String { Self.tail(logPath) }

    static func tail(_ path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}

extension EventStream {
    /// Reads the rest of the body; true if it ended cleanly: closed by the server after its last byte (or, for a
    /// chunked body, with the terminator), not reset and not cut off by the timeout.
    public func endsCleanly(timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        return try await offPool {
            while true {
                guard let bytes = try self.readBodySync(until: deadline) else { return false }
                if bytes.isEmpty { return !self.connection.wasReset }
            }
        }
    }
}
