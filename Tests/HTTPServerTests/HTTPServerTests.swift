import Logging
import Testing

@testable import HTTPServer

@Suite struct HTTPServerTests {
    struct Secret: Error {}

    static func makeRouter() -> Router {
        var router = Router()
        router.get("/hello") { _ in .text("hello") }
        router.post("/echo") { request in
            HTTPResponse(
                status: 200,
                headers: ["Content-Type": "application/octet-stream", "X-Method": request.method.rawValue],
                body: .bytes(request.body))
        }
        router.get("/query") { request in
            .text(request.query.keys.sorted().map { "\($0)=\(request.query[$0]!)" }.joined(separator: "&"))
        }
        router.get("/claims/:id") { request in
            .text("claim \(request.parameters["id"]!) from \(request.remoteAddress ?? "?")")
        }
        router.get("/headers") { request in .text(request.headers["X-Big"].map { String($0.count) } ?? "none") }
        router.get("/inject") { _ in
            HTTPResponse(
                status: 200, headers: ["X-Evil": "a\r\nSet-Cookie: pwn=1", "X-Fine": "yes"],
                body: .bytes(Array("ok".utf8)))
        }
        router.get("/forbidden") { _ in throw HTTPError(403, code: "forbidden", message: "No.") }
        router.get("/secret-failure") { _ in throw Secret() }
        router.get("/slow") { _ in
            try await Task.sleep(for: .milliseconds(200))
            return .text("slow")
        }
        return router
    }

    @Test func getAndPostEcho() async throws {
        try await withServer(Self.makeRouter()) { server in
            #expect(server.port != 0)
            let client = try TestClient(port: server.port)
            try await client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let hello = try await client.readResponse()
            #expect(hello.status == 200)
            #expect(hello.text == "hello")
            #expect(hello[header: "Content-Type"] == "text/plain; charset=utf-8")

            let body = "{\"a\":1,\"b\":\"ü\"}"
            try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let echo = try await client.readResponse()
            #expect(echo.status == 200)
            #expect(echo.text == body)
            #expect(echo[header: "X-Method"] == "POST")
        }
    }

    @Test func keepAliveServesTwoRequestsOnOneConnection() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let first = try await client.readResponse()
            #expect(first.status == 200)
            #expect(first[header: "Connection"]?.lowercased() != "close")
            try await client.send("GET /claims/9 HTTP/1.1\r\nHost: x\r\n\r\n")
            let second = try await client.readResponse()
            #expect(second.status == 200)
            #expect(second.text == "claim 9 from 127.0.0.1")
            #expect(first[header: "X-Request-Id"] != second[header: "X-Request-Id"])
        }
    }

    @Test func pipelinedChunkedUploadIsAccepted() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
            )
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "hello world")
        }
    }

    @Test func everyResponseHasARequestID() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 404)
            let id = try #require(response[header: "X-Request-Id"])
            #expect(id.count == 16)
            #expect(id.allSatisfy { $0.isHexDigit })
        }
    }

    @Test func oversizedContentLengthIs413BeforeContinue() async throws {
        var configuration = HTTPServer.Configuration()
        configuration.maxBodySize = 1000
        try await withServer(Self.makeRouter(), configuration: configuration) { server in
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nExpect: 100-continue\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 413)
            #expect(response.text.contains("payload_too_large"))
        }
    }

    @Test func chunkedBodyPastTheLimitClosesTheConnection() async throws {
        var configuration = HTTPServer.Configuration()
        configuration.maxBodySize = 10
        try await withServer(Self.makeRouter(), configuration: configuration) { server in
            let client = try TestClient(port: server.port)
            try await client.send(
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n01234567890123456789\r\n")
            #expect(await client.waitForClose())
            #expect(!client.received.contains("200 OK"))
        }
    }

    @Test func bodyAtTheLimitIsAccepted() async throws {
        var configuration = HTTPServer.Configuration()
        configuration.maxBodySize = 10
        try await withServer(Self.makeRouter(), configuration: configuration) { server in
            let client = try TestClient(port: server.port)
            try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "0123456789")
        }
    }

    /// A body refused from its head alone is counted and logged under the route it was sent to, not `unmatched`.
    @Test func refusalBeforeTheBodyIsCountedUnderItsRoute() async throws {
        var configuration = HTTPServer.Configuration(port: 0)
        configuration.maxBodySize = 10
        let http = HTTPMetrics(registry: Metrics())
        let server = HTTPServer(
            configuration: configuration, router: Self.makeRouter(),
            logger: Logger(label: "t", handler: InMemoryLogHandler()), metrics: http)
        try server.start()
        let client = try TestClient(port: server.port)
        try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n")
        #expect(try await client.readResponse().status == 413)
        await server.shutdown()
        #expect(http.requests.value(["/echo", "POST", "413"]) == 1)
        #expect(http.requests.value(["unmatched", "POST", "413"]) == 0)
    }

    @Test func queryParametersAreDecoded() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send(
                "GET /query?name=J%C3%BCrg%20M&empty=&flag&n=1&n=2&plus=a+b HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "empty=&flag=&n=2&name=Jürg M&plus=a b")
        }
    }

    @Test func headerInjectionIsDropped() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /inject HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "ok")
            #expect(response[header: "Set-Cookie"] == nil)
            #expect(response[header: "X-Evil"] == nil)
            #expect(response[header: "X-Fine"] == "yes")
        }
    }

    @Test func httpErrorBecomesJSON() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /forbidden HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 403)
            #expect(response[header: "Content-Type"] == "application/json; charset=utf-8")
            #expect(response.text == #"{"error":{"code":"forbidden","message":"No."}}"#)
        }
    }

    @Test func unknownErrorIsGeneric500() async throws {
        let logs = InMemoryLogHandler()
        try await withServer(Self.makeRouter(), logHandler: logs) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /secret-failure HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 500)
            #expect(
                response.text
                    == #"{"error":{"code":"internal_error","message":"Внутренняя ошибка сервера. Попробуйте ещё раз"}}"#
            )
            let id = try #require(response[header: "X-Request-Id"])
            #expect(logs.entries.contains { $0.level == .error && $0.metadata["request.id"] == id })
        }
    }

    @Test func headAnswersGetHeadersWithoutBody() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head[header: "Content-Length"] == "5")
            // The connection is still in sync: the next response starts right away (no stray body bytes).
            try await client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let get = try await client.readResponse()
            #expect(get.status == 200)
            #expect(get.text == "hello")
        }
    }

    @Test func logsOneLinePerRequestWithoutQuery() async throws {
        let logs = InMemoryLogHandler()
        try await withServer(Self.makeRouter(), logHandler: logs) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /claims/5?token=SECRET HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            let id = try #require(response[header: "X-Request-Id"])
            let lines = logs.entries.filter { $0.message == "request" && $0.metadata["request.id"] == id }
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line.level == .info)
            #expect(line.metadata["route"] == "/claims/:id")
            #expect(line.metadata["method"] == "GET")
            #expect(line.metadata["status"] == "200")
            #expect(line.metadata["duration_ms"] != nil)
            #expect(!logs.entries.contains { entry in entry.metadata.values.contains { $0.contains("SECRET") } })

            try await client.send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            let missing = try await client.readResponse()
            let missingID = try #require(missing[header: "X-Request-Id"])
            let missingLine = try #require(logs.entries.first { $0.metadata["request.id"] == missingID })
            #expect(missingLine.metadata["path"] == "/nowhere")
            #expect(missingLine.metadata["status"] == "404")
        }
    }

    @Test func largeHeadersFitTheDefaultMemoryLimit() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            let big = String(repeating: "a", count: 5500)
            try await client.send(
                "GET /headers HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\nCookie: s=\(String(repeating: "c", count: 900))\r\n\r\n"
            )
            let response = try await client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "5500")
        }
    }

    @Test func hugeHeadersAreRefusedByTheLibrary() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send(
                "GET /headers HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 40_000))\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.status == 431 || response.status == 413)
        }
    }

    /// `connectionsPerAddress`: the connection past the limit from one address is closed at once, and a place
    /// freed by a closed connection can be used again.
    @Test func connectionsPerAddressAreLimited() async throws {
        try await withServer(Self.makeRouter(), configuration: .init(connectionsPerAddress: 3)) { server in
            var held: [TestClient] = []
            for _ in 0..<3 {
                let client = try TestClient(port: server.port)
                try await client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await client.readResponse().status == 200)
                held.append(client)
            }
            let refused = try TestClient(port: server.port)
            try? await refused.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await refused.waitForClose(timeout: .seconds(2)))
            held.removeFirst().abort()
            try await Task.sleep(for: .milliseconds(200))
            let next = try TestClient(port: server.port)
            try await next.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await next.readResponse().status == 200)
        }
    }

    /// A request is never handled without an answer. Its head is handled (201), refused with 431 before the handler
    /// runs (over half the pool less 512 bytes), or, in a band of about 200 bytes just under libmicrohttpd's own
    /// limit (half its pool), where not even a refusal fits the pool, closed without running the handler. It used to be handled and then get no answer
    /// (the client saw an empty reply, the server had done the work).
    @Test func aRequestIsNeverHandledWithoutAnAnswer() async throws {
        let handled = Counter()
        var router = Router()
        router.post("/create") { _ in
            handled.increment()
            return HTTPResponse(
                status: 201,
                headers: [
                    "Content-Type": "application/json",
                    "Content-Security-Policy": String(repeating: "default-src 'self'; ", count: 25),
                ],
                body: .bytes(Array(#"{"id":"x"}"#.utf8)))
        }
        try await withServer(router, configuration: .init(connectionMemoryLimit: 8192)) { server in
            var cookies: [String] = []
            for size in stride(from: 1_000, through: 9_000, by: 50) {
                cookies.append("_ga=" + String(repeating: "A", count: size))
            }
            for count in stride(from: 10, through: 90, by: 1) {
                cookies.append(
                    (0..<count).map { "c\($0)=" + String(repeating: "b", count: 86) }.joined(separator: "; "))
            }
            var statuses: [Int: Int] = [:]
            var unanswered = 0
            for cookie in cookies {
                let client = try TestClient(port: server.port)
                let before = handled.count
                try await client.send(
                    "POST /create HTTP/1.1\r\nHost: x\r\nCookie: \(cookie)\r\nContent-Length: 2\r\n\r\n{}")
                guard let response = try? await client.readResponse() else {
                    unanswered += 1
                    #expect(
                        handled.count == before, "handled without an answer: a cookie of \(cookie.utf8.count) bytes")
                    continue
                }
                statuses[response.status, default: 0] += 1
                #expect(response.status == 201 || response.status == 431, "cookie of \(cookie.utf8.count) bytes")
                if response.status == 431 { #expect(handled.count == before, "a refused request was handled") }
            }
            #expect(statuses[201, default: 0] > 0 && statuses[431, default: 0] > 0)
            #expect(unanswered <= 10, "the unanswered band is a few hundred bytes wide")
        }
    }

    /// `%00` in a path is not decoded (the NUL would cut the path short: `/hello%00.css` was served as `/hello`).
    @Test func anEscapedNulInThePathMatchesNoRoute() async throws {
        try await withServer(Self.makeRouter()) { server in
            for path in ["/hello%00.css", "/hello%00", "/claims/%00/x"] {
                let client = try TestClient(port: server.port)
                try await client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try await client.readResponse().status == 404, "\(path)")
            }
            let client = try TestClient(port: server.port)
            try await client.send("GET /claims/a%20b HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().text.hasPrefix("claim a b"))
        }
    }

    /// The idle timeout closes a client that sent part of a request and then nothing (a half-open connection).
    @Test func idleHalfOpenConnectionIsClosed() async throws {
        try await withServer(Self.makeRouter(), configuration: .init(connectionTimeout: .seconds(1))) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
            let clock = ContinuousClock()
            let started = clock.now
            #expect(await client.waitForClose(timeout: .seconds(5)))
            #expect(clock.now - started < .seconds(4))
        }
    }

    @Test func malformedRequestDoesNotCrash() async throws {
        try await withServer(Self.makeRouter()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("\u{01}\u{02} garbage \r\n\r\n")
            _ = await client.waitForClose(timeout: .seconds(2))
            let again = try TestClient(port: server.port)
            try await again.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await again.readResponse().status == 200)
        }
    }

    @Test func handlersRunConcurrentlyOffTheWorkerThreads() async throws {
        var configuration = HTTPServer.Configuration()
        configuration.threadPoolSize = 1
        try await withServer(Self.makeRouter(), configuration: configuration) { server in
            // With one worker thread, ten 200 ms handlers finish in about 200 ms only if none blocks the worker.
            let start = ContinuousClock.now
            let clients = try (0..<10).map { _ in try TestClient(port: server.port) }
            for client in clients { try await client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n") }
            for client in clients { #expect(try await client.readResponse().text == "slow") }
            #expect(ContinuousClock.now - start < .milliseconds(1500))
        }
    }

    @Test func takenPortThrowsBindFailed() async throws {
        try await withServer(Self.makeRouter()) { server in
            let second = HTTPServer(
                configuration: .init(port: server.port), router: Router(),
                logger: Logger(label: "t", handler: InMemoryLogHandler()))
            #expect(throws: HTTPServerError(.bindFailed, "")) { try second.start() }
        }
    }

    @Test func invalidHostIsAConfigurationError() {
        let server = HTTPServer(
            configuration: .init(host: "localhost", port: 0), router: Router(),
            logger: Logger(label: "t", handler: InMemoryLogHandler()))
        #expect(throws: HTTPServerError(.invalidConfiguration, "")) { try server.start() }
    }

    @Test func shutdownAnswersStuckHandlers503() async throws {
        var router = Router()
        router.get("/stuck") { _ in
            try? await Task.sleep(for: .seconds(30))
            return .text("late")
        }
        var configuration = HTTPServer.Configuration(port: 0)
        configuration.shutdownTimeout = .milliseconds(200)
        let server = HTTPServer(
            configuration: configuration, router: router, logger: Logger(label: "t", handler: InMemoryLogHandler()))
        try server.start()
        let client = try TestClient(port: server.port)
        try await client.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        await server.shutdown()
        #expect(ContinuousClock.now - start < .seconds(2))
        let response = try await client.readResponse()
        #expect(response.status == 503)
        #expect(response[header: "Retry-After"] == "1")
    }
}
