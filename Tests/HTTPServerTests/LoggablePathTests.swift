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

    /// libmicrohttpd's own messages quote the request's path: a token in it is masked, the rest kept.
    @Test func libraryMessagesHaveTokensMasked() {
        let message =
            "Failed to send the response body for the request for `/api/v1/claim-plan/Tdah3JweT7con4eEN8iEAwgEYZFKKD1zLdnQ1A2lr64'. Error: The socket is no longer available for sending"
        #expect(
            ServerCore.maskedLibraryMessage(message)
                == "Failed to send the response body for the request for `/api/v1/claim-plan/*'. Error: The socket is no longer available for sending"
        )
        #expect(
            ServerCore.maskedLibraryMessage("Connection limit reached, 512 connections")
                == "Connection limit reached, 512 connections")
    }
}
