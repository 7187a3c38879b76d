import AppCore
import AppTesting
import Testing

/// Client mistakes get precise 4xx answers on every JSON endpoint, never a 500.
@Suite struct BadInputTests {
    /// A JSON endpoint; `{id}` is replaced by a real claim of the signed-in person.
    struct Endpoint: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var testDescription: String { "\(method) \(path)" }

        static let all: [Endpoint] = [
            Endpoint(method: "POST", path: "/api/v1/auth/phone"),
            Endpoint(method: "POST", path: "/api/v1/auth/phone/verify"),
            Endpoint(method: "POST", path: "/api/v1/claims"),
            Endpoint(method: "PUT", path: "/api/v1/claims/{id}/draft"),
            Endpoint(method: "POST", path: "/api/v1/claims/wizard"),
            Endpoint(method: "POST", path: "/api/v1/claims/{id}/confirm"),
            Endpoint(method: "POST", path: "/api/v1/claims/{id}/cancel"),
        ]
    }

    /// Signs in, creates a draft and returns the cookie and `endpoint`'s concrete path.
    static func prepare(_ app: TestApplication, _ endpoint: Endpoint) async throws -> (cookie: String, path: String) {
        let cookie = try await app.login()
        let claimID = try #require(try await app.createDraft(cookie: cookie)["claim_id"]?.string)
        return (cookie, endpoint.path.replacing("{id}", with: claimID))
    }

    @Test(arguments: Endpoint.all, ["{\"phone\": ", "{'phone': 1}", "not json", "{\"a\":1}}"])
    func malformedJSONIsInvalidJSON(endpoint: Endpoint, body: String) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, endpoint)
            let response = try await app.json(endpoint.method, path, raw: body, cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_json")
            #expect(response.mediaType == "application/json")
        }
    }

    @Test(arguments: Endpoint.all, ["", "[]", "null", "\"text\"", "42"])
    func emptyOrNonObjectBodyIsInvalidJSON(endpoint: Endpoint, body: String) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, endpoint)
            let response = try await app.json(endpoint.method, path, raw: body, cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_json")
        }
    }

    @Test(
        arguments: Endpoint.all, ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
    func wrongContentTypeIsUnsupported(endpoint: Endpoint, contentType: String) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, endpoint)
            let response = try await app.json(
                endpoint.method, path, raw: "{\"phone\":\"+79161234567\"}", cookie: cookie, contentType: contentType)
            #expect(response.status == 415)
            #expect(response.errorCode == "unsupported_media_type")
        }
    }

    @Test func missingContentTypeIsUnsupported() async throws {
        try await withTestApplication { app in
            let response = try await app.request(
                "POST", "/api/v1/auth/phone", body: Array("{\"phone\":\"+79161234567\"}".utf8))
            #expect(response.status == 415)
            #expect(response.errorCode == "unsupported_media_type")
        }
    }

    /// A body whose member has the wrong type, and the field the error must name.
    struct WrongType: Sendable, CustomTestStringConvertible {
        var endpoint: Endpoint
        var body: String
        var field: String
        var testDescription: String { "\(endpoint.testDescription) \(body)" }
    }

    static let wrongTypes: [WrongType] = [
        WrongType(endpoint: Endpoint.all[0], body: "{\"phone\": 5}", field: "phone"),
        WrongType(endpoint: Endpoint.all[0], body: "{\"phone\": null}", field: "phone"),
        WrongType(endpoint: Endpoint.all[1], body: "{\"phone\": \"+79161234567\", \"code\": 123456}", field: "code"),
        WrongType(endpoint: Endpoint.all[2], body: "{\"type_code\": [\"travel\"]}", field: "type_code"),
        WrongType(endpoint: Endpoint.all[3], body: "{\"answers\": [], \"revision\": 1}", field: "answers"),
        WrongType(endpoint: Endpoint.all[3], body: "{\"answers\": {}, \"revision\": \"1\"}", field: "revision"),
        WrongType(
            endpoint: Endpoint.all[3], body: "{\"answers\": {\"trip_country\": 5}, \"revision\": 1}",
            field: "answers.trip_country"),
        WrongType(endpoint: Endpoint.all[4], body: "{\"claim_id\": \"{id}\", \"answers\": []}", field: "answers"),
        WrongType(
            endpoint: Endpoint.all[4], body: "{\"claim_id\": \"{id}\", \"answers\": {}, \"revision\": \"2\"}",
            field: "revision"),
        WrongType(endpoint: Endpoint.all[4], body: "{\"claim_id\": 7, \"answers\": {}}", field: "claim_id"),
        WrongType(endpoint: Endpoint.all[5], body: "{\"submission_id\": 1}", field: "submission_id"),
        WrongType(endpoint: Endpoint.all[6], body: "{\"submission_id\": false}", field: "submission_id"),
    ]

    @Test(arguments: wrongTypes)
    func wrongTypeNamesTheField(_ testCase: WrongType) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, testCase.endpoint)
            let claimID = path.split(separator: "/").dropFirst(3).first.map(String.init) ?? ""
            let body = testCase.body.replacing("{id}", with: claimID)
            let response = try await app.json(testCase.endpoint.method, path, raw: body, cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_field")
            #expect(response.errorField == testCase.field)
        }
    }

    /// Numbers JSONDecoder cannot represent as the field's integer: refused as that field, not as "not JSON".
    static let numbersOutOfRange: [WrongType] = [
        "1e400", "-1e400", "99999999999999999999999", "9223372036854775808", "1.5",
    ]
    .flatMap { number in
        [
            WrongType(endpoint: Endpoint.all[3], body: "{\"answers\": {}, \"revision\": \(number)}", field: "revision"),
            WrongType(
                endpoint: Endpoint.all[4],
                body: "{\"answers\": {}, \"type_code\": \"travel\", \"revision\": \(number)}",
                field: "revision"),
        ]
    }

    @Test(arguments: numbersOutOfRange)
    func numberOutOfRangeNamesTheField(_ testCase: WrongType) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, testCase.endpoint)
            let response = try await app.json(testCase.endpoint.method, path, raw: testCase.body, cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_field")
            #expect(response.errorField == testCase.field)
        }
    }

    /// A number out of range next to broken JSON is still broken JSON.
    @Test func numberOutOfRangeInBrokenJSONIsInvalidJSON() async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, Endpoint.all[3])
            let response = try await app.json(
                "PUT", path, raw: "{\"answers\": {}, \"revision\": 1e400,", cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_json")
        }
    }

    /// A body with bytes that are not UTF-8 in every member an endpoint reads (a member nobody reads is skipped
    /// unchecked), and 10,000 levels of nesting, of arrays and of objects.
    static let undecodableBodies: [[UInt8]] = [
        Array(
            ##"{"phone": "#", "code": "#", "type_code": "#", "claim_id": "#", "submission_id": "#", "answers": {"a": "#"}, "revision": 1}"##
                .utf8
        ).flatMap { $0 == UInt8(ascii: "#") ? [0xFF, 0xFE, 0xC3, 0x28, 0xED, 0xA0, 0x80] : [$0] },
        Array(repeating: UInt8(ascii: "["), count: 10_000) + Array(repeating: UInt8(ascii: "]"), count: 10_000),
        Array(String(repeating: "{\"a\":", count: 10_000).utf8) + [UInt8(ascii: "1")]
            + Array(repeating: UInt8(ascii: "}"), count: 10_000),
    ]

    /// Undecodable bytes are 400 `invalid_json` on every JSON endpoint (and the server stays up).
    @Test(arguments: Endpoint.all, undecodableBodies)
    func undecodableBytesAreInvalidJSON(endpoint: Endpoint, body: [UInt8]) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, endpoint)
            let response = try await app.request(
                endpoint.method, path, headers: [("Content-Type", "application/json")], body: body, cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_json")
        }
    }

    static let missingFields: [WrongType] = [
        WrongType(endpoint: Endpoint.all[0], body: "{}", field: "phone"),
        WrongType(endpoint: Endpoint.all[1], body: "{\"phone\": \"+79161234567\"}", field: "code"),
        WrongType(endpoint: Endpoint.all[2], body: "{\"type\": \"travel\"}", field: "type_code"),
        WrongType(endpoint: Endpoint.all[3], body: "{\"answers\": {}}", field: "revision"),
        WrongType(endpoint: Endpoint.all[3], body: "{\"revision\": 1}", field: "answers"),
        WrongType(
            endpoint: Endpoint.all[4], body: "{\"claim_id\": \"00000000-0000-0000-0000-000000000000\"}",
            field: "answers"),
        WrongType(endpoint: Endpoint.all[4], body: "{\"answers\": {}}", field: "claim_id"),
        WrongType(endpoint: Endpoint.all[5], body: "{}", field: "submission_id"),
        WrongType(endpoint: Endpoint.all[6], body: "{}", field: "submission_id"),
    ]

    @Test(arguments: missingFields)
    func missingFieldIsNamed(_ testCase: WrongType) async throws {
        try await withTestApplication { app in
            let (cookie, path) = try await Self.prepare(app, testCase.endpoint)
            let response = try await app.json(testCase.endpoint.method, path, raw: testCase.body, cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "missing_field")
            #expect(response.errorField == testCase.field)
        }
    }

    @Test func bodyOverTheLimitIsRefused() async throws {
        try await withTestApplication {
            $0.maxBodySize = 1024
        } _: { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let claimID = try #require(draft["claim_id"]?.string)
            let revision = try #require(draft["revision"]?.int)
            let big =
                "{\"answers\": {\"description\": \"\(String(repeating: "x", count: 4000))\"}, \"revision\": \(revision)}"
            let response = try await app.json("PUT", "/api/v1/claims/\(claimID)/draft", raw: big, cookie: cookie)
            #expect(response.status == 413)
            #expect(response.json?["error"]?["code"]?.string?.isEmpty == false)
            // Nothing was saved, and a body within the limit still works.
            let small = try await app.json(
                "PUT", "/api/v1/claims/\(claimID)/draft",
                raw: "{\"answers\": {\"trip_country\": \"Турция\"}, \"revision\": \(revision)}",
                cookie: cookie)
            #expect(small.status == 200)
            #expect(small.json?["revision"]?.int == revision + 1)
        }
    }

    @Test(arguments: ["/api/v1/nope", "/api/v2/claims", "/api/v1/claims/drafts/extra/segment", "/no-such-page.html"])
    func unknownRouteIsJSON404(path: String) async throws {
        try await withTestApplication { app in
            let response = try await app.json("GET", path)
            #expect(response.status == 404)
            #expect(response.mediaType == "application/json")
            #expect(response.errorCode?.isEmpty == false)
        }
    }

    @Test(arguments: [
        ("DELETE", "/api/v1/me", "GET"), ("PUT", "/api/v1/claims", "POST"), ("POST", "/api/v1/me", "GET"),
        ("PATCH", "/api/v1/claims/wizard", "POST"),
    ])
    func wrongMethodIs405(method: String, path: String, allowed: String) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let response = try await app.json(method, path, cookie: cookie)
            #expect(response.status == 405)
            #expect(response.errorCode == "method_not_allowed")
            let allow = try #require(response[header: "Allow"])
            #expect(allow.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.contains(allowed))
        }
    }

    @Test(arguments: [
        ("GET", "/api/v1/claims/drafts"), ("GET", "/api/v1/claims"), ("POST", "/api/v1/claims"),
        ("POST", "/api/v1/claims/wizard"), ("GET", "/api/v1/claims/0b3c5d1e-0000-4000-8000-000000000000"),
        ("PUT", "/api/v1/claims/0b3c5d1e-0000-4000-8000-000000000000/draft"),
        ("POST", "/api/v1/claims/0b3c5d1e-0000-4000-8000-000000000000/confirm"),
        ("POST", "/api/v1/claims/0b3c5d1e-0000-4000-8000-000000000000/cancel"),
        (
            "GET",
            "/api/v1/claims/0b3c5d1e-0000-4000-8000-000000000000/confirmation?render=0123456789abcdef0123456789abcdef"
        ),
        ("GET", "/api/v1/claim-plan/abcdefghijklmnop"),
    ])
    func protectedEndpointsNeedASession(method: String, path: String) async throws {
        try await withTestApplication { app in
            let response = try await app.json(method, path, raw: method == "GET" ? nil : "{}")
            #expect(response.status == 401)
            #expect(response.errorCode == "unauthenticated")
        }
    }
}
