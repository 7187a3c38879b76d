import Logging
import Testing

@testable import HTTPServer

@Suite struct RouterTests {
    struct Boom: Error {}

    static func makeRouter() -> Router {
        var router = Router()
        router.get("/api/v1/claims/:claim_id/draft") { request in
            .text("draft \(request.parameters["claim_id"] ?? "?")")
        }
        router.post("/api/v1/claims") { _ in .text("created", status: 201) }
        router.get("/static/*path") { request in .text("rest=\(request.parameters["path"] ?? "nil")") }
        router.get("/teapot") { _ in throw HTTPError(418, code: "teapot", message: "I am a teapot", field: "pot") }
        router.get("/boom") { _ in throw Boom() }
        return router
    }

    @Test func matchesParameters() {
        let router = Self.makeRouter()
        guard case .found(let route, let parameters) = router.match(method: .get, path: "/api/v1/claims/42/draft")
        else {
            Issue.record("no match")
            return
        }
        #expect(route.pattern == "/api/v1/claims/:claim_id/draft")
        #expect(parameters == ["claim_id": "42"])
    }

    /// `/api/v1/claims/wizard` is the POST route's path, not a claim id: other methods there are 405 listing POST
    /// only (a `GET` route with `:claim_id` in that place does not count), and a real id still reaches the GET route.
    @Test func aLiteralSegmentOutranksAParameter() {
        var router = Router()
        router.get("/api/v1/claims/:claim_id") { _ in .text("claim") }
        router.post("/api/v1/claims/wizard") { _ in .text("wizard") }
        guard case .methodNotAllowed(let allowed) = router.match(method: .get, path: "/api/v1/claims/wizard") else {
            Issue.record("GET on the wizard's path must be 405")
            return
        }
        #expect(allowed == [.post])
        guard case .found(let route, _) = router.match(method: .post, path: "/api/v1/claims/wizard"),
            case .found(let claim, let parameters) = router.match(method: .get, path: "/api/v1/claims/42")
        else {
            Issue.record("no match")
            return
        }
        #expect(route.pattern == "/api/v1/claims/wizard")
        #expect(claim.pattern == "/api/v1/claims/:claim_id" && parameters == ["claim_id": "42"])
    }

    @Test func parameterNeedsASegment() {
        let router = Self.makeRouter()
        guard case .notFound = router.match(method: .get, path: "/api/v1/claims//draft") else {
            Issue.record("an empty segment must not bind a parameter")
            return
        }
    }

    @Test func matchesRest() {
        let router = Self.makeRouter()
        guard case .found(_, let deep) = router.match(method: .get, path: "/static/a/b/c.js") else {
            Issue.record("no match")
            return
        }
        #expect(deep["path"] == "a/b/c.js")
        guard case .found(_, let empty) = router.match(method: .get, path: "/static") else {
            Issue.record("rest must match an empty remainder")
            return
        }
        #expect(empty["path"] == "")
    }

    @Test func unknownPathIs404() async {
        let router = Self.makeRouter()
        let response = await router.respond(
            to: HTTPRequest(method: .get, path: "/nope"), logger: Logger(label: "t", handler: InMemoryLogHandler()))
        #expect(response.status == 404)
        #expect(response.headers["Content-Type"] == "application/json; charset=utf-8")
    }

    @Test func wrongMethodIs405WithAllow() async {
        let router = Self.makeRouter()
        let response = await router.respond(
            to: HTTPRequest(method: .delete, path: "/api/v1/claims"),
            logger: Logger(label: "t", handler: InMemoryLogHandler()))
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "POST")
    }

    @Test func catchAllDoesNotHideRealRoutesOrInvent405s() async {
        var router = Router()
        router.post("/api/v1/auth/logout") { _ in HTTPResponse(status: 204) }
        router.get("/*path") { _ in .text("static") }
        let logger = Logger(label: "t", handler: InMemoryLogHandler())
        // A GET to a POST-only route is that route's 405, not a static-file lookup.
        let wrongMethod = await router.respond(
            to: HTTPRequest(method: .get, path: "/api/v1/auth/logout"), logger: logger)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["Allow"] == "POST")
        // A POST to a path only the GET catch-all binds is 404, not "405, Allow: GET".
        let unknown = await router.respond(to: HTTPRequest(method: .post, path: "/nope"), logger: logger)
        #expect(unknown.status == 404)
        let file = await router.respond(to: HTTPRequest(method: .get, path: "/app.js"), logger: logger)
        #expect(file.status == 200)
    }

    @Test func headIsRoutedToGet() async {
        let router = Self.makeRouter()
        guard case .found(let route, _) = router.match(method: .head, path: "/api/v1/claims/7/draft") else {
            Issue.record("HEAD must use the GET route")
            return
        }
        #expect(route.method == .get)
    }

    @Test func httpErrorBecomesItsResponse() async {
        let router = Self.makeRouter()
        let response = await router.respond(
            to: HTTPRequest(method: .get, path: "/teapot"), logger: Logger(label: "t", handler: InMemoryLogHandler()))
        #expect(response.status == 418)
        #expect(
            String(decoding: response.bodyBytes, as: UTF8.self)
                == #"{"error":{"code":"teapot","message":"I am a teapot","field":"pot"}}"#)
    }

    @Test func unknownErrorIsGeneric500AndLogged() async throws {
        let router = Self.makeRouter()
        let logs = InMemoryLogHandler()
        let response = await router.respond(
            to: HTTPRequest(method: .get, path: "/boom", id: "abc"), logger: Logger(label: "t", handler: logs))
        #expect(response.status == 500)
        #expect(!String(decoding: response.bodyBytes, as: UTF8.self).contains("Boom"))
        let entry = try #require(logs.entries.first(where: { $0.level == .error }))
        #expect(entry.metadata["request.id"] == "abc")
        #expect(entry.metadata["error"]?.contains("Boom") == true)
    }

    @Test func translatedErrorAnswersAsTranslatedAndIsLoggedAsAWarning() async throws {
        var router = Self.makeRouter()
        router.translate.append { _ in nil }  // declines: the next one is asked
        router.translate.append { error in
            String(reflecting: error).contains("Boom")
                ? HTTPError(503, code: "database_unavailable", message: "later", headers: ["Retry-After": "5"]) : nil
        }
        let logs = InMemoryLogHandler()
        let response = await router.respond(
            to: HTTPRequest(method: .get, path: "/boom", id: "abc"), logger: Logger(label: "t", handler: logs))
        #expect(response.status == 503)
        #expect(response.headers["Retry-After"] == "5")
        #expect(!logs.entries.contains { $0.level == .error })
        let entry = try #require(logs.entries.first { $0.level == .warning })
        #expect(entry.metadata["request.id"] == "abc")
    }

    @Test func cookiesAreParsed() {
        let request = HTTPRequest(
            method: .get, path: "/",
            headers: HTTPHeaders([("Cookie", "session=abc123; theme=dark"), ("cookie", "session=ignored; lang=en")]))
        #expect(request.cookies == ["session": "abc123", "theme": "dark", "lang": "en"])
        // One cookie read alone agrees with the dictionary: first sent wins, a name is not a prefix match.
        #expect(request.cookie("session") == "abc123")
        #expect(request.cookie("lang") == "en")
        #expect(request.cookie("sess") == nil)
    }

    @Test func cookieWithoutValueIsSkippedAndEqualsInValueKept() {
        let request = HTTPRequest(method: .get, path: "/", headers: ["Cookie": "flag; token=a=b=="])
        #expect(request.cookies == ["token": "a=b=="])
        #expect(request.cookie("token") == "a=b==")
        #expect(request.cookie("flag") == nil)
    }
}
