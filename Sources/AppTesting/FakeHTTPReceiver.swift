import AppCore
import Foundation
import HTTPServer
import Logging
import Synchronization

/// A loopback HTTP server that records every POST and answers with a set status and body: the fake Telegram
/// Bot API (`/bot<token>/sendMessage` → `{"ok":true}`) and the fake SMS webhook of the live tests.
public final class FakeHTTPReceiver: Sendable {
    /// One request as received.
    public struct Received: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: [UInt8]
        /// The status it was answered with.
        public var status: Int

        /// The body parsed as JSON.
        public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
    }

    private final class State: Sendable {
        let received = Mutex<[Received]>([])
        let answer: Mutex<(status: Int, body: String)>
        /// One-off answers, used up in order before ``answer``.
        let queued = Mutex<[(status: Int, body: String)]>([])
        init(status: Int, body: String) { answer = Mutex((status, body)) }

        func nextAnswer() -> (status: Int, body: String) {
            queued.withLock { $0.isEmpty ? nil : $0.removeFirst() } ?? answer.withLock { $0 }
        }
    }

    private let server: HTTPServer
    private let state: State

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(server.port)" }
    /// Everything received so far, oldest first.
    public var requests: [Received] { state.received.withLock { $0 } }

    /// Starts listening on `127.0.0.1:0`.
    public init(status: Int = 200, body: String = #"{"ok":true,"result":{}}"#) throws {
        let state = State(status: status, body: body)
        var router = Router()
        router.post("/*path") { request in
            var headers: [String: String] = [:]
            for name in ["Content-Type", "X-Clpr-Timestamp", "X-Clpr-Signature"] {
                headers[name] = request.headers[name]
            }
            let (status, body) = state.nextAnswer()
            state.received.withLock {
                $0.append(Received(path: request.path, headers: headers, body: request.body, status: status))
            }
            return HTTPResponse(
                status: status, headers: ["Content-Type": "application/json"], body: .bytes(Array(body.utf8)))
        }
        self.state = state
        self.server = HTTPServer(
            configuration: .init(port: 0, threadPoolSize: 1, connectionLimit: 64), router: router,
            logger: Logger(label: "fake", logLevel: .error, handler: InMemoryLogHandler()))
        try server.start()
    }

    /// Changes the answer to later requests.
    public func answer(status: Int, body: String) {
        state.answer.withLock { $0 = (status, body) }
    }

    /// Answers the next request with `status` and `body` (queued after earlier one-off answers), then goes back
    /// to the usual answer.
    public func answerOnce(status: Int, body: String) {
        state.queued.withLock { $0.append((status, body)) }
    }

    /// Waits until at least `count` requests arrived; returns all received.
    public func waitFor(_ count: Int, timeout: Duration = .seconds(5)) async -> [Received] {
        _ = await eventually(timeout: timeout) { requests.count >= count }
        return requests
    }

    public func shutdown() async {
        await server.shutdown()
    }
}
