import AppCore
import AppTesting
import Foundation
import Testing

@testable import App

/// The Telegram Mini App login, the bot's webhook, linking a shared phone and drafts across channels. The Bot API
/// is a fake on loopback.
@Suite struct TelegramTests {
    typealias Fixture = TelegramInitDataFixture

    /// Runs `body` with an application whose Telegram bot talks to a fake Bot API, with fast outbox timings.
    func withTelegram<T: Sendable>(
        _ backend: IdentityBackend = .sqlite, maxAge: Duration = .seconds(86_400),
        _ body: (TestApplication, FakeHTTPReceiver) async throws -> T
    ) async throws -> T {
        let botAPI = try FakeHTTPReceiver()
        do {
            let result = try await backend.withApplication(configure: { configuration in
                configuration.telegram = Fixture.configuration(apiURL: botAPI.baseURL, maxAge: maxAge)
                configuration.outbox.timeout = .seconds(2)
                configuration.outbox.pollInterval = .milliseconds(50)
                configuration.outbox.retry = OutboxRetryPolicy(
                    baseDelay: .milliseconds(50), maxDelay: .milliseconds(200), maxAge: .seconds(60))
            }) { app in try await body(app, botAPI) }
            await botAPI.shutdown()
            return result
        } catch {
            await botAPI.shutdown()
            throw error
        }
    }

    func unifiedID(_ app: TestApplication, cookie: String) async throws -> String? {
        try await app.json("GET", "/api/v1/me", cookie: cookie).json?["unified_id"]?.string
    }

    // MARK: - initData

    enum InitDataCase: String, CaseIterable, CustomStringConvertible {
        case valid, oneEditedByte, hashMissing, authDate25HoursOld, authDateInTheFuture, userWithEscapedSlashes,
            signedWithAnotherToken
        var description: String { rawValue }
    }

    @Test(arguments: InitDataCase.allCases)
    func initDataIsCheckedAsTelegramDocuments(_ kind: InitDataCase) async throws {
        try await withTelegram { app, _ in
            let now = Date()
            let initData: String
            var expected: (status: Int, code: String?) = (401, nil)
            switch kind {
            case .valid:
                initData = Fixture.signed(Fixture.fields(id: 500_001))
                expected = (200, nil)
            case .oneEditedByte:
                let valid = Fixture.signed(Fixture.fields(id: 500_001))
                initData = valid.replacingOccurrences(of: "AAHdF6IQ", with: "AAHdF6IR")
                #expect(initData != valid)
                expected.code = "init_data_invalid"
            case .hashMissing:
                initData = Fixture.encode(Fixture.fields(id: 500_001).map { ($0.key, $0.value) })
                expected.code = "init_data_hash_missing"
            case .authDate25HoursOld:
                initData = Fixture.signed(Fixture.fields(id: 500_001, authDate: now.addingTimeInterval(-25 * 3600)))
                expected.code = "init_data_expired"
            case .authDateInTheFuture:
                initData = Fixture.signed(Fixture.fields(id: 500_001, authDate: now.addingTimeInterval(3600)))
                expected.code = "init_data_from_the_future"
            case .userWithEscapedSlashes:
                // Signed over the raw text with its `\/` escapes: re-serializing the JSON would lose them.
                initData = Fixture.signed(
                    Fixture.fields(
                        id: 500_001, extraUser: #","photo_url":"https:\/\/t.me\/i\/userpic\/320\/a.svg""#))
                expected = (200, nil)
            case .signedWithAnotherToken:
                initData = Fixture.signed(Fixture.fields(id: 500_001), botToken: "987654321:AAanother-bot")
                expected.code = "init_data_invalid"
            }
            let response = try await app.telegramLogin(initData)
            #expect(response.status == expected.status, "\(response.text)")
            if let code = expected.code {
                #expect(response.errorCode == code)
                #expect(response.values("Set-Cookie").isEmpty)
            } else {
                let cookie = try #require(TestApplication.sessionCookie(in: response))
                let me = try await app.json("GET", "/api/v1/me", cookie: cookie)
                #expect(me.status == 200)
                #expect(me.json?["unified_id"]?.string == response.json?["user"]?["unified_id"]?.string)
                #expect(me.json?["phone"] == .null)
            }
        }
    }

    @Test func telegramLoginIsOffWithoutAToken() async throws {
        try await withTestApplication { app in
            let response = try await app.telegramLogin(Fixture.signed(Fixture.fields(id: 500_002)))
            #expect(response.status == 404)
            #expect(response.errorCode == "telegram_disabled")
            let update = try await app.telegramUpdate(TestApplication.update(from: 500_002, text: "/start"))
            #expect(update.status == 404)
        }
    }

    @Test(arguments: IdentityBackend.available)
    func twentyParallelFirstLoginsOfATelegramIDMakeOneUser(_ backend: IdentityBackend) async throws {
        try await withTelegram(backend) { app, _ in
            let initData = Fixture.signed(Fixture.fields(id: 500_003))
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<20 { group.addTask { try await app.telegramLogin(initData) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.filter { $0.status >= 500 }.isEmpty)
            #expect(responses.allSatisfy { $0.status == 200 })
            let ids = Set(responses.compactMap { $0.json?["user"]?["unified_id"]?.string })
            #expect(ids.count == 1)
        }
    }

    // MARK: - Bot webhook

    @Test func webhookNeedsTheSecretHeader() async throws {
        try await withTelegram { app, botAPI in
            let update = TestApplication.update(from: 500_010, text: "/start")
            let missing = try await app.telegramUpdate(update, secret: nil)
            #expect(missing.status == 401)
            let wrong = try await app.telegramUpdate(update, secret: "not-the-secret")
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == "unauthenticated")
            try await Task.sleep(for: .milliseconds(200))
            #expect(botAPI.requests.isEmpty, "nothing is sent for a refused update")
        }
    }

    @Test func unreadableUpdatesAreAcknowledgedSoTelegramDoesNotResendThem() async throws {
        try await withTelegram { app, botAPI in
            for update in [
                "{}", "not json", #"{"update_id":"x"}"#,
                #"{"update_id":7,"message":{"message_id":1,"chat":{"id":1},"contact":{"phone_number":"+79161234567","user_id":"1"}}}"#,
            ] {
                let response = try await app.telegramUpdate(update)
                #expect(response.status == 200, "\(update)")
                #expect(response.json?["outcome"]?.string == "ignored")
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(botAPI.requests.isEmpty)
        }
    }

    @Test func startAnswersWithTheMiniAppButtonAndAContactRequest() async throws {
        try await withTelegram { app, botAPI in
            let response = try await app.telegramUpdate(TestApplication.update(from: 500_011, text: "/start"))
            #expect(response.status == 200)
            #expect(response.json?["outcome"]?.string == "start")
            let sent = await botAPI.waitFor(2)
            try #require(sent.count == 2)
            #expect(sent.allSatisfy { $0.path == "/bot\(Fixture.botToken)/sendMessage" })
            let first = try #require(sent[0].json)
            #expect(first["chat_id"]?.int == 500_011)
            let button = first["reply_markup"]?["inline_keyboard"]?[0]?[0]
            #expect(button?["web_app"]?["url"]?.string == "https://clpr.example/")
            #expect(button?["text"]?.string == "Открыть приложение")
            let second = try #require(sent[1].json)
            #expect(second["reply_markup"]?["keyboard"]?[0]?[0]?["request_contact"]?.bool == true)
            // Sent by the outbox's dispatcher, which records both as sent.
            let store = app.application.store
            #expect(
                await eventually(timeout: .seconds(5)) {
                    (try? await store.outboxItems(states: [.sent], limit: 10).map(\.kind)) == [
                        .telegramMessage, .telegramMessage,
                    ]
                })
        }
    }

    /// The text of each request the fake Bot API received.
    static func texts(_ requests: [FakeHTTPReceiver.Received]) -> [String] {
        requests.compactMap { $0.json?["text"]?.string }
    }

    @Test func aFailedReplyIsRetriedAndDeliveredOnceInOrder() async throws {
        try await withTelegram { app, botAPI in
            botAPI.answerOnce(status: 500, body: #"{"ok":false,"error_code":500,"description":"Internal"}"#)
            let response = try await app.telegramUpdate(TestApplication.update(from: 500_013, text: "/start"))
            #expect(response.status == 200)
            let store = app.application.store
            let sent = await eventually(timeout: .seconds(5)) {
                (try? await store.outboxItems(states: [.sent], limit: 10).count) == 2
            }
            #expect(sent)
            try await Task.sleep(for: .milliseconds(300))
            let requests = botAPI.requests
            // The first reply failed; the second was held back behind it, then both went out in order, once each.
            #expect(requests.map(\.status) == [500, 200, 200])
            #expect(
                Self.texts(requests) == [TelegramTexts.start, TelegramTexts.start, TelegramTexts.askContact])
            #expect(try await store.outboxItems(states: [.pending, .dead], limit: 10).isEmpty)
            #expect(app.application.dispatcher.counts.sent == 2)
        }
    }

    @Test(arguments: IdentityBackend.available)
    func anUpdateDeliveredTwiceIsAnsweredOnce(_ backend: IdentityBackend) async throws {
        try await withTelegram(backend) { app, botAPI in
            let start = TestApplication.update(from: 500_014, text: "/start")
            let contact = TestApplication.update(from: 500_014, contact: (phone: "+79161230014", userID: 500_014))
            for update in [start, start, contact, contact] {
                #expect(try await app.telegramUpdate(update).status == 200)
            }
            let sent = await botAPI.waitFor(4)
            try await Task.sleep(for: .milliseconds(500))
            #expect(botAPI.requests.count == 4, "\(Self.texts(botAPI.requests))")
            #expect(
                Self.texts(sent) == [
                    TelegramTexts.start, TelegramTexts.askContact,
                    TelegramTexts.linked(try PhoneNumber(parsing: "+79161230014")), TelegramTexts.continueInApp,
                ])
            let items = try await app.application.store.outboxItems(states: OutboxState.allCases, limit: 10)
            #expect(items.count == 4)
            #expect(items.allSatisfy { $0.kind == .telegramMessage && $0.state == .sent })
        }
    }

    @Test func aBlockedBotIsNotRetried() async throws {
        try await withTelegram { app, botAPI in
            botAPI.answer(
                status: 403,
                body: #"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#)
            _ = try await app.telegramUpdate(
                TestApplication.update(from: 500_015, contact: (phone: "+79161234567", userID: 500_999)))
            let store = app.application.store
            let dead = await eventually(timeout: .seconds(5)) {
                (try? await store.outboxItems(states: [.dead], limit: 10).count) == 1
            }
            #expect(dead)
            try await Task.sleep(for: .milliseconds(300))
            #expect(botAPI.requests.count == 1)
            let item = try #require(try await store.outboxItems(states: [.dead], limit: 10).first)
            #expect(item.lastError == "HTTP 403: Forbidden: bot was blocked by the user")
            #expect(item.attempts == 1)
        }
    }

    @Test func anotherPersonsContactIsRefused() async throws {
        try await withTelegram { app, botAPI in
            let foreign = try await app.telegramUpdate(
                TestApplication.update(from: 500_012, contact: (phone: "+79161234567", userID: 500_999)))
            #expect(foreign.status == 200)
            #expect(foreign.json?["outcome"]?.string == "foreign_contact")
            let noUserID = try await app.telegramUpdate(
                TestApplication.update(from: 500_012, contact: (phone: "+79161234567", userID: nil)))
            #expect(noUserID.json?["outcome"]?.string == "foreign_contact")
            let sent = await botAPI.waitFor(2)
            #expect(sent.count == 2)

            // Nothing was linked: the web user of that phone is someone else than the Telegram user.
            let web = try await unifiedID(app, cookie: try await app.login())
            let telegramCookie = try #require(
                TestApplication.sessionCookie(
                    in: try await app.telegramLogin(Fixture.signed(Fixture.fields(id: 500_012)))))
            let telegram = try await unifiedID(app, cookie: telegramCookie)
            #expect(web != nil && telegram != nil && web != telegram)
        }
    }

    @Test(arguments: IdentityBackend.available)
    func phoneWithAndWithoutPlusLinksToTheSameWebUser(_ backend: IdentityBackend) async throws {
        try await withTelegram(backend) { app, _ in
            let webCookie = try await app.login(phone: "+79161234567")
            let web = try #require(try await unifiedID(app, cookie: webCookie))
            for (telegramID, phone) in [(Int64(500_020), "79161234567"), (Int64(500_021), "+79161234567")] {
                let linked = try await app.telegramUpdate(
                    TestApplication.update(from: telegramID, contact: (phone: phone, userID: telegramID)))
                #expect(linked.status == 200)
                #expect(linked.json?["outcome"]?.string == "merged")
                let login = try await app.telegramLogin(Fixture.signed(Fixture.fields(id: telegramID)))
                #expect(login.json?["user"]?["unified_id"]?.string == web)
                #expect(login.json?["user"]?["phone"]?.string == "+79161234567")
            }
            let again = try await app.telegramUpdate(
                TestApplication.update(from: 500_021, contact: (phone: "+7 916 123-45-67", userID: 500_021)))
            #expect(again.json?["outcome"]?.string == "already_linked")
        }
    }

    @Test(arguments: IdentityBackend.available)
    func aDraftStartedInTelegramIsListedOnTheWebAfterPhoneLogin(_ backend: IdentityBackend) async throws {
        try await withTelegram(backend) { app, _ in
            let telegramCookie = try #require(
                TestApplication.sessionCookie(
                    in: try await app.telegramLogin(Fixture.signed(Fixture.fields(id: 500_030)))))
            let draft = try await app.createDraft(cookie: telegramCookie)
            let claimID = try #require(draft["claim_id"]?.string)
            let linked = try await app.telegramUpdate(
                TestApplication.update(from: 500_030, contact: (phone: "79161230030", userID: 500_030)))
            #expect(linked.json?["outcome"]?.string == "linked")

            let webCookie = try await app.login(phone: "+79161230030")
            let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: webCookie)
            #expect(drafts.json?["drafts"]?[0]?["claim_id"]?.string == claimID)
            #expect(try await app.json("GET", "/api/v1/claims/\(claimID)", cookie: webCookie).status == 200)
        }
    }

    @Test(arguments: IdentityBackend.available)
    func mergingKeepsBothPeoplesDraftsAndTheTelegramSession(_ backend: IdentityBackend) async throws {
        try await withTelegram(backend) { app, _ in
            let webCookie = try await app.login(phone: "+79161230040")
            let webDraft = try #require(try await app.createDraft(cookie: webCookie)["claim_id"]?.string)
            let telegramCookie = try #require(
                TestApplication.sessionCookie(
                    in: try await app.telegramLogin(Fixture.signed(Fixture.fields(id: 500_040)))))
            let telegramDraft = try #require(try await app.createDraft(cookie: telegramCookie)["claim_id"]?.string)

            let merged = try await app.telegramUpdate(
                TestApplication.update(from: 500_040, contact: (phone: "+79161230040", userID: 500_040)))
            #expect(merged.json?["outcome"]?.string == "merged")

            for cookie in [webCookie, telegramCookie] {
                let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
                #expect(drafts.status == 200)
                let ids = Set((0..<5).compactMap { drafts.json?["drafts"]?[$0]?["claim_id"]?.string })
                #expect(ids == [webDraft, telegramDraft])
            }
        }
    }

    // MARK: - Logs

    @Test func logsHoldNoTokenSecretInitDataPhoneOrCode() async throws {
        try await withTelegram { app, botAPI in
            let initData = Fixture.signed(Fixture.fields(id: 500_050))
            let login = try await app.telegramLogin(initData)
            let telegramCookie = try #require(TestApplication.sessionCookie(in: login))
            _ = try await app.telegramLogin(initData.replacingOccurrences(of: "AAHdF6IQ", with: "AAHdF6IR"))
            _ = try await app.telegramUpdate(TestApplication.update(from: 500_050, text: "/start"), secret: "wrong")
            _ = try await app.telegramUpdate(TestApplication.update(from: 500_050, text: "/start"))
            _ = try await app.telegramUpdate(
                TestApplication.update(from: 500_050, contact: (phone: "79161230050", userID: 500_050)))
            let webCookie = try await app.login(phone: "+79161230050")
            let code = try #require(app.lastLoginCode)
            _ = await botAPI.waitFor(4)
            botAPI.answer(status: 401, body: #"{"ok":false,"error_code":401,"description":"Unauthorized"}"#)
            _ = try await app.telegramUpdate(TestApplication.update(from: 500_050, text: "/start"))
            _ = await botAPI.waitFor(6)
            try await Task.sleep(for: .milliseconds(200))

            let hash = try #require(initData.split(separator: "&").first { $0.hasPrefix("hash=") }?.dropFirst(5))
            let forbidden = [
                Fixture.botToken, String(Fixture.botToken.split(separator: ":")[1]), Fixture.webhookSecret,
                String(hash), initData, "9161230050", telegramCookie.dropFirst("clpr_session=".count).description,
                webCookie.dropFirst("clpr_session=".count).description,
            ]
            for entry in app.logs.entries {
                let texts = [entry.message] + Array(entry.metadata.values)
                for text in texts {
                    for secret in forbidden {
                        #expect(!text.contains(secret), "\(entry.label): \(entry.message)")
                    }
                    if text.contains(code) { #expect(entry.label == "clpr.codes") }
                }
            }
            // The refused call is logged (status and Telegram's description) and will be retried.
            #expect(
                app.logs.entries.contains {
                    $0.message.hasPrefix("outbox attempt failed") && $0.metadata["error"] == "HTTP 401: Unauthorized"
                })
        }
    }
}
