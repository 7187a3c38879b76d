import Testing

@testable import HTTPServer

@Suite struct LoggablePathTests {
    @Test(arguments: [
        ("/api/v1/claim-plan/Zk3aQ9_xYbR2-pLm7TtVw4s8/extra", "/api/v1/claim-plan/*/extra"),
        ("/api/v1/claims/9a1c1e3e-0000-4000-8000-000000000001", "/api/v1/claims/*"),
        ("/Zk3aQ9_xYbR2-pLm7TtVw4s8.js", "/*"),
        ("/api/v1/users/+79161234567/claims", "/api/v1/users/*/claims"),
        ("/api/v1/users/8 (916) 123-45-67", "/api/v1/users/*"),
        ("/api/v1/users/89161234567", "/api/v1/users/*"),
        ("/no/such/page", "/no/such/page"),
        ("/assets/app.v2.min.js", "/assets/app.v2.min.js"),
        ("/", "/"),
    ])
    func tokensAndPhonesInUnmatchedPathsAreMasked(path: String, logged: String) {
        #expect(ServerCore.loggablePath(path) == logged)
    }

    @Test func longPathsAreCut() {
        let logged = ServerCore.loggablePath("/" + String(repeating: "a/", count: 300))
        #expect(logged.count == 201)
        #expect(logged.hasSuffix("…"))
    }
}
