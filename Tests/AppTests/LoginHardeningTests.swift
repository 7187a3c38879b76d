import App
import AppCore
import AppTesting
import Crypto
import Foundation
import Testing

/// Login codes beyond the basics in ``AuthTests``: one use under concurrency, send limits, the webhook sender;
/// signing out everywhere; the `Secure` cookie.
@Suite struct LoginHardeningTests {
    @Test(arguments: IdentityBackend.available)
    func twentyParallelFirstLoginsOfANewPhoneMakeOneUser(_ backend: IdentityBackend) async throws {
        try await backend.withApplication { app in
            #expect(try await app.requestCode(phone: "+79161230100").status == 200)
            let code = try #require(app.lastLoginCode)
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 { group.addTask { try await app.verifyCode(code, phone: "+79161230100") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.filter { $0.status >= 500 }.isEmpty)
            #expect(responses.filter { $0.status == 200 }.count == 1, "a code signs in once")
            #expect(responses.filter { $0.status == 404 }.count == 19)
            let winner = try #require(responses.first { $0.status == 200 }?.json?["user"]?["unified_id"]?.string)
            let again = try await app.login(phone: "+79161230100")
            #expect(try await app.json("GET", "/api/v1/me", cookie: again).json?["unified_id"]?.string == winner)
        }
    }

    @Test func sendsPerPhoneAreLimited() async throws {
        try await withTestApplication(configure: { $0.loginRateLimits = .init(perPhone: 2, perAddress: 100) }) { app in
            #expect(try await app.requestCode().status == 200)
            #expect(try await app.requestCode().status == 200)
            let third = try await app.requestCode()
            #expect(third.status == 429)
            #expect(third.errorCode == "too_many_codes")
            let retryAfter = try #require(third[header: "Retry-After"].flatMap { Int($0) })
            #expect((3000...3600).contains(retryAfter))
            #expect(try await app.requestCode(phone: "+79161230102").status == 200, "another number is not limited")
        }
    }

    @Test func sendsPerClientAddressAreLimited() async throws {
        try await withTestApplication(configure: { $0.loginRateLimits = .init(perPhone: 100, perAddress: 3) }) { app in
            for index in 0..<3 {
                #expect(try await app.requestCode(phone: "+7916123011\(index)").status == 200)
            }
            let fourth = try await app.requestCode(phone: "+79161230119")
            #expect(fourth.status == 429)
            #expect(fourth.errorCode == "too_many_codes")
            #expect(fourth[header: "Retry-After"] != nil)
        }
    }

    @Test func codesGoToTheSignedWebhookAndNeverToTheLog() async throws {
        let gateway = try FakeHTTPReceiver(body: #"{"queued":true}"#)
        let secret = "sms-webhook-secret-0123456789"
        try await withTestApplication(configure: { configuration in
            configuration.codeDelivery = .webhook(.init(url: gateway.baseURL + "/sms?key=abc", secret: secret))
            configuration.loginCodePolicy.resendAfter = .seconds(60)
        }) { app in
            #expect(try await app.requestCode().status == 200)
            let sent = try #require(await gateway.waitFor(1).first)
            #expect(sent.path == "/sms")
            let body = try #require(sent.json)
            #expect(body["phone"]?.string == "+79161234567")
            let code = try #require(body["code"]?.string)
            #expect(code.count == 6 && code.allSatisfy(\.isNumber))
            #expect(body["expires_in"]?.int == 300)
            let timestamp = try #require(sent.headers["X-Clpr-Timestamp"])
            let expected = Crypto.hex(
                Crypto.hmacSHA256(key: Array(secret.utf8), message: Array((timestamp + ".").utf8) + sent.body))
            #expect(sent.headers["X-Clpr-Signature"] == expected)
            #expect(abs(Double(timestamp)! - Date().timeIntervalSince1970) < 30)

            #expect(app.lastLoginCode == nil)
            for entry in app.logs.entries {
                #expect(!([entry.message] + Array(entry.metadata.values)).contains { $0.contains(code) })
                #expect(!([entry.message] + Array(entry.metadata.values)).contains { $0.contains(secret) })
            }
            #expect(try await app.verifyCode(code).status == 200)

            // The gateway fails: 503, and the unsent code does not hold the resend cooldown.
            gateway.answer(status: 500, body: "{}")
            let failed = try await app.requestCode(phone: "+79161230120")
            #expect(failed.status == 503)
            #expect(failed.errorCode == "code_not_sent")
            // An outage longer than the per-number limit (5 an hour) does not lock the number out: unsent codes
            // are given back.
            for _ in 0..<6 { #expect(try await app.requestCode(phone: "+79161230120").status == 503) }
            gateway.answer(status: 200, body: "{}")
            #expect(try await app.requestCode(phone: "+79161230120").status == 200)
        }
        await gateway.shutdown()
    }

    @Test func signingOutEverywhereEndsEverySessionOfThePerson() async throws {
        try await withTestApplication { app in
            let first = try await app.login()
            let second = try await app.login()
            let other = try await app.login(phone: "+79161230130")
            let response = try await app.request("POST", "/api/v1/auth/logout-all", cookie: first)
            #expect(response.status == 200)
            #expect(response.json?["sessions_ended"]?.int == 2)
            #expect(
                response.values("Set-Cookie").contains { $0.hasPrefix("clpr_session=;") && $0.contains("Max-Age=0") })
            #expect(try await app.json("GET", "/api/v1/me", cookie: first).status == 401)
            #expect(try await app.json("GET", "/api/v1/me", cookie: second).status == 401)
            #expect(try await app.json("GET", "/api/v1/me", cookie: other).status == 200)
            #expect(try await app.request("POST", "/api/v1/auth/logout-all").status == 401)
        }
    }

    @Test func cookieIsSecureWhenThePublicURLIsHTTPS() async throws {
        try await withTestApplication(configure: { $0.publicURL = "https://clpr.example" }) { app in
            #expect(try await app.requestCode().status == 200)
            let response = try await app.verifyCode(try #require(app.lastLoginCode))
            let cookie = try #require(response.values("Set-Cookie").first)
            #expect(cookie.contains("; Secure"))
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
        }
    }
}
