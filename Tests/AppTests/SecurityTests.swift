import AppTesting
import Testing

/// Cross-origin writes, hardening headers and the web app's static files.
@Suite struct SecurityTests {
    @Test(arguments: ["http://evil.example", "null", "http://127.0.0.1.evil.example", "https://evil.example:443"])
    func crossOriginWritesAreRefused(origin: String) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            let headers = [("Origin", origin)]
            let responses = [
                try await app.json("POST", "/api/v1/auth/phone", ["phone": "+79161234567"], headers: headers),
                try await app.json("POST", "/api/v1/claims", ["type_code": "travel"], cookie: cookie, headers: headers),
                try await app.json(
                    "PUT", "/api/v1/claims/\(id)/draft", raw: "{\"answers\":{},\"revision\":1}", cookie: cookie,
                    headers: headers),
                try await app.request("POST", "/api/v1/auth/logout", headers: headers, cookie: cookie),
            ]
            for response in responses {
                #expect(response.status == 403)
                #expect(response.errorCode == "cross_origin")
            }
            // None of them had an effect: the session is alive and there is still one draft.
            let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
            #expect(drafts.status == 200)
            #expect(drafts.json?["drafts"]?.array?.count == 1)
        }
    }

    @Test func crossSiteFetchMetadataIsRefused() async throws {
        try await withTestApplication { app in
            let response = try await app.json(
                "POST", "/api/v1/auth/phone", ["phone": "+79161234567"], headers: [("Sec-Fetch-Site", "cross-site")])
            #expect(response.status == 403)
            #expect(response.errorCode == "cross_origin")
        }
    }

    /// Behind a proxy the `Host` header may be rewritten: with a public URL configured, its origin is what counts.
    @Test func publicURLOriginIsTheOneAllowed() async throws {
        try await withTestApplication {
            $0.publicURL = "https://claims.example.ru/"
        } _: { app in
            let proxied = [("Origin", "https://Claims.Example.RU")]  // Host stays 127.0.0.1:port, as behind a proxy
            let allowed = try await app.json("POST", "/api/v1/auth/phone", ["phone": "+79161234567"], headers: proxied)
            #expect(allowed.status == 200)
            let hostOnly = [("Origin", "http://\(app.host)")]
            let refused = try await app.json("POST", "/api/v1/auth/phone", ["phone": "+79161234568"], headers: hostOnly)
            #expect(refused.status == 403)
            #expect(refused.errorCode == "cross_origin")
        }
    }

    @Test func sameOriginWritesAreAllowed() async throws {
        try await withTestApplication { app in
            let origin = [("Origin", "http://\(app.host)"), ("Sec-Fetch-Site", "same-origin")]
            let code = try await app.json("POST", "/api/v1/auth/phone", ["phone": "+79161234567"], headers: origin)
            #expect(code.status == 200)
            let cookie = try await app.login()
            let created = try await app.json(
                "POST", "/api/v1/claims", ["type_code": "travel"], cookie: cookie, headers: origin)
            #expect(created.status == 201)
            // Reads are never refused for their origin.
            let read = try await app.json(
                "GET", "/api/v1/claims/drafts", cookie: cookie, headers: [("Origin", "http://evil.example")])
            #expect(read.status == 200)
        }
    }

    @Test(arguments: [
        ("GET", "/api/v1/claim-types"), ("GET", "/api/v1/me"), ("GET", "/api/v1/nope"), ("POST", "/api/v1/auth/phone"),
        ("DELETE", "/api/v1/me"), ("GET", "/"), ("GET", "/healthz"),
    ])
    func everyResponseIsHardened(method: String, path: String) async throws {
        try await withTestApplication { app in
            let response = try await app.request(method, path)
            #expect(response.status < 500)
            #expect(response[header: "X-Content-Type-Options"] == "nosniff")
            let policy = try #require(response[header: "Content-Security-Policy"])
            #expect(policy.contains("frame-ancestors"))
            #expect(policy.contains("script-src"))
            #expect(!policy.contains("unsafe-inline"))
        }
    }

    @Test func indexIsHTMLWithAPolicy() async throws {
        try await withTestApplication { app in
            for path in ["/", "/index.html"] {
                let response = try await app.request("GET", path)
                #expect(response.status == 200)
                #expect(response.mediaType == "text/html")
                #expect(response[header: "Content-Security-Policy"]?.contains("default-src 'self'") == true)
                #expect(response.text.lowercased().contains("<!doctype html"))
            }
        }
    }

    @Test func scriptsAreServedAsJavaScript() async throws {
        try await withTestApplication { app in
            let response = try await app.request("GET", "/app.js")
            #expect(response.status == 200)
            let type = try #require(response.mediaType)
            #expect(type == "text/javascript" || type == "application/javascript")
            #expect(response[header: "X-Content-Type-Options"] == "nosniff")
            #expect(!response.body.isEmpty)
        }
    }

    @Test(arguments: ["/../Package.swift", "/%2e%2e/Package.swift", "/.git/config", "/web/index.html"])
    func nothingOutsideTheWebFolderIsServed(path: String) async throws {
        try await withTestApplication { app in
            let response = try await app.request("GET", path)
            #expect(response.status == 404)
            #expect(!response.text.contains("PackageDescription"))
        }
    }
}
