import AppCore
import AppTesting
import Foundation
import Testing

@testable import App

/// "We will send you a message in Telegram when it is ready": the flag on the claim, the message enqueued when
/// the plan arrives (or at once if it already has), sent once through the outbox to a fake Bot API.
@Suite struct PlanReadyNoticeTests {
    typealias Fixture = TelegramInitDataFixture

    func withTelegram<T: Sendable>(
        _ backend: IdentityBackend = .sqlite, plannerDelay: Duration = .milliseconds(200),
        _ body: (TestApplication, FakeHTTPReceiver) async throws -> T
    ) async throws -> T {
        let botAPI = try FakeHTTPReceiver()
        do {
            let result = try await backend.withApplication(configure: { configuration in
                configuration.telegram = Fixture.configuration(apiURL: botAPI.baseURL)
                configuration.plannerDelay = plannerDelay
                configuration.outbox.timeout = .seconds(2)
                configuration.outbox.pollInterval = .milliseconds(50)
            }) { app in try await body(app, botAPI) }
            await botAPI.shutdown()
            return result
        } catch {
            await botAPI.shutdown()
            throw error
        }
    }

    func telegramCookie(_ app: TestApplication, id: Int64) async throws -> String {
        let login = try await app.telegramLogin(Fixture.signed(Fixture.fields(id: id)))
        return try #require(TestApplication.sessionCookie(in: login))
    }

    @Test(arguments: IdentityBackend.available)
    func askedWhileWaitingTheMessageGoesOnceWhenThePlanArrives(backend: IdentityBackend) async throws {
        try await withTelegram(backend, plannerDelay: .milliseconds(1500)) { app, botAPI in
            let cookie = try await telegramCookie(app, id: 700_001)
            let submission = try await app.submitNewClaim(cookie: cookie)
            let path = "/api/v1/claims/\(submission.claimID)/telegram-notice"
            let offer = try await app.json("GET", path, cookie: cookie)
            #expect(offer.json?["available"]?.bool == true)
            #expect(offer.json?["requested"]?.bool == false)

            let asked = try await app.json(
                "PUT", path, ["submission_id": submission.submissionID], cookie: cookie,
                headers: [("Accept-Language", "en")])
            #expect(asked.status == 200, "\(asked.text)")
            #expect(try await app.json("GET", path, cookie: cookie).json?["requested"]?.bool == true)
            #expect(botAPI.requests.isEmpty, "nothing is sent before the plan")

            let sent = await botAPI.waitFor(1, timeout: .seconds(10))
            let message = try #require(sent.first)
            #expect(message.path.hasSuffix("/sendMessage"))
            #expect(message.json?["chat_id"]?.int == 700_001)
            #expect(message.json?["text"]?.string?.hasPrefix("Your claim is ready") == true)
            #expect(try await app.claim(submission.claimID, cookie: cookie)["plan_is_current"]?.bool == true)
            // Once: the flag was taken off with the message.
            try await Task.sleep(for: .milliseconds(800))
            #expect(botAPI.requests.count == 1)
            #expect(try await app.json("GET", path, cookie: cookie).json?["requested"]?.bool == false)
        }
    }

    @Test func askedAfterThePlanArrivedTheMessageGoesAtOnce() async throws {
        try await withTelegram { app, botAPI in
            let cookie = try await telegramCookie(app, id: 700_002)
            let submission = try await app.submitNewClaim(cookie: cookie)
            _ = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))
            let asked = try await app.json(
                "PUT", "/api/v1/claims/\(submission.claimID)/telegram-notice",
                ["submission_id": submission.submissionID], cookie: cookie)
            #expect(asked.status == 200)
            let sent = await botAPI.waitFor(1, timeout: .seconds(10))
            #expect(sent.first?.json?["chat_id"]?.int == 700_002)
            #expect(sent.first?.json?["text"]?.string?.hasPrefix("Ваша заявка готова") == true)
        }
    }

    @Test func notOfferedWithoutTelegram() async throws {
        try await withTelegram { app, botAPI in
            let cookie = try await app.login()  // a phone login: no Telegram account
            let submission = try await app.submitNewClaim(cookie: cookie)
            let path = "/api/v1/claims/\(submission.claimID)/telegram-notice"
            #expect(try await app.json("GET", path, cookie: cookie).json?["available"]?.bool == false)
            let refused = try await app.json("PUT", path, ["submission_id": submission.submissionID], cookie: cookie)
            #expect(refused.status == 409)
            #expect(refused.errorCode == "telegram_not_linked")
            let stale = try await app.json("PUT", path, ["submission_id": "sub_other"], cookie: cookie)
            #expect(stale.status == 409)
            let stranger = try await telegramCookie(app, id: 700_003)
            #expect(try await app.json("GET", path, cookie: stranger).status == 404)
            #expect(botAPI.requests.isEmpty)
        }
        try await withTestApplication { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let path = "/api/v1/claims/\(submission.claimID)/telegram-notice"
            #expect(try await app.json("GET", path, cookie: cookie).json?["available"]?.bool == false)
            let disabled = try await app.json("PUT", path, ["submission_id": submission.submissionID], cookie: cookie)
            #expect(disabled.status == 404)
            #expect(disabled.errorCode == "telegram_disabled")
        }
    }
}
