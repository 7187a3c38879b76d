import AppCore
import AppTesting
import Crypto
import Foundation
import Testing

@testable import App

/// `POST /api/v1/claim-plan/{session_token}`: the signed HTTP alternative to `PUBLISH`.
@Suite struct PlanCallbackTests {
    static let secret = "callback-secret-0123456789"

    static let configure: @Sendable (inout Application.Configuration) -> Void = { configuration in
        configuration.planner = .none
        configuration.n8n = .init(webhookURL: "http://127.0.0.1:9/unused", secret: secret)
    }

    static func signed(
        _ body: [UInt8], timestamp: Int64 = Int64(Date().timeIntervalSince1970), secret: String = secret
    ) -> [(String, String)] {
        let text = String(timestamp)
        let signature = WebhookSignature(secret: secret).sign(timestamp: text, body: body)
        return [
            ("Content-Type", "application/json"), ("X-Clpr-Timestamp", text), ("X-Clpr-Signature", signature),
        ]
    }

    static func deliver(
        _ app: TestApplication, token: String, body: [UInt8], headers: [(String, String)]
    ) async throws -> TestResponse {
        try await app.request("POST", "/api/v1/claim-plan/\(token)", headers: headers, body: body)
    }

    @Test func validSignatureDeliversOnceAndReplaysAreRefused() async throws {
        try await withTestApplication(configure: Self.configure) { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            let body = RedisPlanStreamTests.planJSON(submission)
            let headers = Self.signed(body)

            let first = try await Self.deliver(app, token: submission.sessionToken, body: body, headers: headers)
            #expect(first.status == 200)
            #expect(first.json?["status"]?.string == "stored")
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.events.map(\.event) == ["claim_plan_ready"])

            // The very same request again: a replay.
            let replay = try await Self.deliver(app, token: submission.sessionToken, body: body, headers: headers)
            #expect(replay.status == 409)
            #expect(replay.json?["error"]?["code"]?.string == "replay")

            // The same plan signed anew (the workflow retried): accepted, not stored twice.
            try await Task.sleep(for: .milliseconds(1100))
            let again = try await Self.deliver(
                app, token: submission.sessionToken, body: body, headers: Self.signed(body))
            #expect(again.status == 200)
            #expect(again.json?["status"]?.string == "duplicate")
        }
    }

    @Test func badSignaturesAreRefusedWith401() async throws {
        try await withTestApplication(configure: Self.configure) { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let body = RedisPlanStreamTests.planJSON(submission)
            let token = submission.sessionToken

            // One changed byte of the body, with the original signature.
            var tampered = body
            tampered[tampered.count / 2] ^= 0x01
            let changed = try await Self.deliver(app, token: token, body: tampered, headers: Self.signed(body))
            #expect(changed.status == 401)
            #expect(changed.json?["error"]?["code"]?.string == "bad_signature")

            // One changed character of the signature.
            var headers = Self.signed(body)
            var signature = Array(headers[2].1)
            signature[0] = signature[0] == "a" ? "b" : "a"
            headers[2].1 = String(signature)
            #expect(try await Self.deliver(app, token: token, body: body, headers: headers).status == 401)

            // Signed with another secret.
            #expect(
                try await Self.deliver(
                    app, token: token, body: body, headers: Self.signed(body, secret: "wrong-secret")
                )
                .status == 401)

            // Older (or newer) than ±300 s.
            let now = Int64(Date().timeIntervalSince1970)
            #expect(
                try await Self.deliver(app, token: token, body: body, headers: Self.signed(body, timestamp: now - 301))
                    .status == 401)
            #expect(
                try await Self.deliver(app, token: token, body: body, headers: Self.signed(body, timestamp: now + 301))
                    .status == 401)

            // No signature at all.
            #expect(
                try await Self.deliver(app, token: token, body: body, headers: [("Content-Type", "application/json")])
                    .status == 401)

            // Nothing was stored by any of them.
            #expect(
                try await app.application.store.planRecord(sessionToken: token, submissionID: submission.submissionID)
                    == nil)
        }
    }

    @Test func invalidPlanIsRefusedWith422AndUnknownTokenWith404() async throws {
        try await withTestApplication(configure: Self.configure) { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let invalid = Array(#"{"version":1}"#.utf8)
            let refused = try await Self.deliver(
                app, token: submission.sessionToken, body: invalid, headers: Self.signed(invalid))
            #expect(refused.status == 422)

            let body = RedisPlanStreamTests.planJSON(submission)
            let unknown = try await Self.deliver(
                app, token: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", body: body, headers: Self.signed(body))
            #expect(unknown.status == 404)
        }
    }

    @Test func routeIsAbsentWithoutASecret() async throws {
        try await withTestApplication(configure: { $0.planner = .none }) { app in
            let body = Array("{}".utf8)
            let response = try await Self.deliver(app, token: "AAAAAAAAAAAA", body: body, headers: Self.signed(body))
            #expect(response.status == 404)
        }
    }

    @Test(
        .enabled(
            if: RedisTestConfiguration.isEnabled && PostgresTestConfiguration.isEnabled,
            "needs CLPR_TEST_REDIS_URL and CLPR_TEST_DATABASE_URL"))
    func callbackToAnotherInstanceReachesTheStreamThroughRedis() async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let configure: @Sendable (inout Application.Configuration) -> Void = { configuration in
            Self.configure(&configuration)
            configuration.planBus = try! .redis(url: redis)
        }
        try await PostgresTestDatabase.with { database in
            let postgres = Application.Configuration.Database.postgres(database.configuration)
            try await withTestApplication(database: postgres, configure: configure) { holder in
                try await withTestApplication(database: postgres, configure: configure) { other in
                    #expect(await RedisPlanStreamTests.subscribed(holder))
                    #expect(await RedisPlanStreamTests.subscribed(other))
                    let cookie = try await holder.login()
                    let submission = try await holder.submitNewClaim(cookie: cookie)
                    let stream = try await holder.openStream(submission.streamURL, cookie: cookie)
                    // The workflow's callback lands on the other instance (behind a load balancer).
                    let body = RedisPlanStreamTests.planJSON(submission)
                    let response = try await Self.deliver(
                        other, token: submission.sessionToken, body: body, headers: Self.signed(body))
                    #expect(response.status == 200)
                    let transcript = try await stream.collect(timeout: .seconds(5))
                    #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
                    #expect(transcript.events.first?.id == submission.submissionID)
                }
            }
        }
    }

    @Test func signatureRecipeMatchesTheDocumentation() {
        // docs/n8n.md: hex HMAC-SHA256(secret, timestamp + "." + body).
        let signature = WebhookSignature(secret: "secret")
        let expected = Crypto.hex(Crypto.hmacSHA256(key: Array("secret".utf8), message: Array("1700000000.{}".utf8)))
        #expect(signature.sign(timestamp: "1700000000", body: Array("{}".utf8)) == expected)
        #expect(
            (try? signature.verify(
                timestamp: "1700000000", signature: expected.uppercased(), body: Array("{}".utf8),
                now: Date(timeIntervalSince1970: 1_700_000_100))) == expected)
    }
}
