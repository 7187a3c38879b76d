import AppCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fake n8n (`tests/fake-n8n/fake_n8n.py`) as a child process on a loopback port: it receives clpr's signed
/// webhook and behaves like a good or a broken workflow (see the script's modes), publishing plans on Redis or
/// through the signed callback.
public final class FakeN8N: @unchecked Sendable {
    public enum Mode: String, Sendable {
        case ok, empty, error500, error429, hang, twice, flaky, crm
    }

    public let port: UInt16
    private let process: Process

    /// The webhook URL to configure (`CLPR_N8N_WEBHOOK_URL`).
    public var url: String { "http://127.0.0.1:\(port)/webhook/clpr-claim" }

    /// The script, found from this file's location.
    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tests/fake-n8n/fake_n8n.py").path
    }

    /// Starts the fake and waits for its port.
    /// - Parameters:
    ///   - mode: how it behaves.
    ///   - secret: checks our signature with it (401 when wrong) and signs callbacks.
    ///   - redis: where it publishes plans (`redis://…`).
    ///   - callback: clpr's base URL: plans are delivered through the signed callback instead of Redis.
    ///   - delay: how long the "workflow" runs before publishing.
    ///   - failRate: share of 500 answers in ``Mode/flaky``.
    ///   - seed: the random seed, for a repeatable ``Mode/flaky`` run.
    public init(
        mode: Mode, secret: String = "", redis: String = "", callback: String = "",
        delay: Duration = .milliseconds(100),
        failRate: Double = 0.3, hang: Duration = .seconds(5), seed: Int? = nil
    ) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = [
            "python3", Self.scriptPath, "--mode", mode.rawValue, "--delay-ms",
            String(Int(delay.timeInterval * 1000)), "--fail-rate", String(failRate), "--hang-s",
            String(hang.timeInterval),
        ]
        if !secret.isEmpty { arguments += ["--secret", secret] }
        if !redis.isEmpty { arguments += ["--redis", redis] }
        if !callback.isEmpty { arguments += ["--callback", callback] }
        if let seed { arguments += ["--seed", String(seed)] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let handle = output.fileHandleForReading
        let line = try await offPool { () throws -> String in
            var bytes: [UInt8] = []
            while !bytes.contains(UInt8(ascii: "\n")) {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                bytes += chunk
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard line.hasPrefix("PORT "), let port = UInt16(line.dropFirst(5).prefix { $0.isNumber }) else {
            process.terminate()
            throw ScenarioFailure("fake n8n did not start: \(line)")
        }
        self.port = port
        self.process = process
    }

    /// Stops the process with SIGKILL (it keeps nothing; SIGTERM may be blocked in the mask it inherited from the
    /// test runner). Polls instead of `waitUntilExit()`, which spins a core when called off the main thread.
    public func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        let process = self.process
        _ = await eventually(timeout: .seconds(5), every: .milliseconds(10)) { !process.isRunning }
    }

    /// What the fake saw: per `Idempotency-Key`, webhook calls received, answered 2xx and plans published; the
    /// last body and headers per key; calls with a bad signature.
    public struct Stats: Sendable {
        public var requests: [String: Int]
        public var accepted: [String: Int]
        public var published: [String: Int]
        public var badSignatures: Int
        public var bodies: [String: JSONValue]
        public var headers: [String: [String: String]]
    }

    public func stats() async throws -> Stats {
        let response = try await ServerProcess.get("/stats", port: port, timeout: .seconds(5))
        guard let json = JSONValue.parse(response.text) else { throw ScenarioFailure("fake n8n stats", response) }
        func counts(_ name: String) -> [String: Int] {
            (json[name]?.object ?? [:]).compactMapValues(\.int)
        }
        let headers = (json["headers"]?.object ?? [:]).mapValues { value in
            (value.object ?? [:]).compactMapValues(\.string)
        }
        return Stats(
            requests: counts("requests"), accepted: counts("accepted"), published: counts("published"),
            badSignatures: json["bad_signatures"]?.int ?? 0,
            bodies: (json["bodies"]?.object ?? [:]).compactMapValues { $0.string.flatMap(JSONValue.parse) },
            headers: headers)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
