import AppCore
import Crypto
import FoundationEssentials
import HTTPServer
import Logging

/// The Telegram ways in: the Mini App login (`POST /api/v1/auth/telegram`, signed `initData`) and the bot's
/// webhook (`POST /api/v1/telegram/webhook`: `/start` and shared contacts). Both answer 404 when Telegram is not
/// configured.
struct TelegramRoutes: Sendable {
    let store: any IdentityStore & OutboxStore
    let authenticator: Authenticator
    let telegram: Application.Configuration.Telegram?
    /// Sends the replies enqueued in the outbox (``TelegramSender``); nudged after each enqueue.
    let dispatcher: OutboxDispatcher
    /// The Mini App's URL for the bot's button (the configured one, else the public URL).
    let webAppURL: String?
    let logger: Logger

    func register(in router: inout Router) {
        router.post("/api/v1/auth/telegram", use: login)
        router.post("/api/v1/telegram/webhook", use: webhook)
    }

    static let disabled = APIError(404, "telegram_disabled", "Вход через Telegram не настроен")

    // MARK: - Mini App login

    struct LoginBody: Decodable { var init_data: String }

    @Sendable func login(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let telegram else { throw Self.disabled }
        let body = try JSONBody.decode(LoginBody.self, from: request)
        let initData: TelegramInitData
        do {
            initData = try TelegramInitData(
                validating: body.init_data, botToken: telegram.botToken, maxAge: telegram.initDataMaxAge)
        } catch {
            logger.notice("telegram init data refused", metadata: ["reason": error.rawValue])
            let message =
                switch error {
                case .expired: "Данные входа из Telegram устарели. Закройте и снова откройте приложение"
                case .fromTheFuture:
                    "Время на устройстве и сервере расходится. Проверьте часы и откройте приложение снова"
                default: "Не удалось проверить данные входа из Telegram"
                }
            throw APIError(401, error.rawValue, message, field: "init_data")
        }
        let user = try await store.upsertTelegramUser(initData.user)
        let cookie = try await authenticator.start(for: user, channel: .telegram)
        logger.info("signed in", metadata: ["unified_id": user.unifiedID, "channel": "telegram"])
        var response = JSONResponse.make(
            .object(["user": AuthRoutes.userJSON(unifiedID: user.unifiedID, phone: user.phone)]))
        response.headers.add("Set-Cookie", cookie)
        return response
    }

    // MARK: - Bot webhook

    static let secretHeader = "X-Telegram-Bot-Api-Secret-Token"

    struct Update: Decodable {
        struct Message: Decodable {
            struct Chat: Decodable { var id: Int64 }
            struct From: Decodable { var id: Int64 }
            struct Contact: Decodable {
                var phone_number: String
                var user_id: Int64?
            }
            var chat: Chat
            var from: From?
            var text: String?
            var contact: Contact?
        }
        var update_id: Int64
        var message: Message?
    }

    /// Telegram's updates. Only requests with the configured secret header are read (401 otherwise); every
    /// readable update is answered 200 at once (Telegram would resend anything else). The bot's replies are
    /// enqueued in the outbox, keyed by the update, and its dispatcher sends them: retried while the Bot API is
    /// unreachable, kept over a restart, and sent once when Telegram delivers the same update again.
    @Sendable func webhook(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let telegram, let secret = telegram.webhookSecret else { throw Self.disabled }
        guard let given = request.headers[Self.secretHeader],
            Crypto.constantTimeEquals(Array(given.utf8), Array(secret.utf8))
        else {
            logger.notice("telegram webhook refused: wrong secret")
            throw APIError(401, "unauthenticated", "Неверный секрет вебхука")
        }
        // An update this bot cannot read (another update type, a field of an unexpected type) is acknowledged
        // and dropped: Telegram would re-deliver anything but a 2xx, again and again.
        guard let update = try? JSONBody.decode(Update.self, from: request) else {
            logger.notice("telegram update not readable: ignored", metadata: ["bytes": String(request.body.count)])
            return Self.ok("ignored")
        }
        guard let message = update.message else { return Self.ok("ignored") }
        if let contact = message.contact {
            return try await sharedContact(contact, in: message, update: update.update_id, botToken: telegram.botToken)
        }
        if let text = message.text, text == "/start" || text.hasPrefix("/start ") {
            var replies = [BotMessage(chatID: message.chat.id, text: TelegramTexts.start)]
            if let webAppURL {
                replies[0].keyboard = .openMiniApp(text: TelegramTexts.openApp, url: webAppURL)
            }
            replies.append(
                BotMessage(
                    chatID: message.chat.id, text: TelegramTexts.askContact,
                    keyboard: .requestContact(text: TelegramTexts.shareContact)))
            try await enqueue(replies, update: update.update_id, botToken: telegram.botToken)
            return Self.ok("start")
        }
        return Self.ok("ignored")
    }

    /// A contact shared with the bot: only the sender's own, and only a Russian mobile number, is linked.
    /// The replies are enqueued in the link's transaction.
    func sharedContact(
        _ contact: Update.Message.Contact, in message: Update.Message, update: Int64, botToken: String
    ) async throws -> HTTPResponse {
        guard let sender = message.from?.id, contact.user_id == sender else {
            logger.notice("telegram contact refused: not the sender's own")
            try await enqueue(
                [BotMessage(chatID: message.chat.id, text: TelegramTexts.foreignContact)], update: update,
                botToken: botToken)
            return Self.ok("foreign_contact")
        }
        guard let phone = try? PhoneNumber(parsing: contact.phone_number), phone.isMobile else {
            try await enqueue(
                [BotMessage(chatID: message.chat.id, text: TelegramTexts.unusablePhone)], update: update,
                botToken: botToken)
            return Self.ok("invalid_phone")
        }
        // The replies do not depend on how the link ends, so they are known before it and written with it.
        var replies = [BotMessage(chatID: message.chat.id, text: TelegramTexts.linked(phone), keyboard: .remove)]
        if let webAppURL {
            replies.append(
                BotMessage(
                    chatID: message.chat.id, text: TelegramTexts.continueInApp,
                    keyboard: .openMiniApp(text: TelegramTexts.openApp, url: webAppURL)))
        }
        let link = try await store.linkTelegramPhone(
            telegramID: sender, phone: phone.e164,
            enqueueing: Self.outboxMessages(replies, update: update, botToken: botToken))
        dispatcher.nudge()
        logger.info(
            "telegram phone linked",
            metadata: [
                "unified_id": link.user.unifiedID, "phone": phone.masked, "outcome": link.outcome.rawValue,
                "moved_claims": "\(link.movedClaims)",
            ])
        return Self.ok(link.outcome.rawValue)
    }

    /// Enqueues `messages` as the replies to `update` and wakes the dispatcher. A failure fails the webhook
    /// (500), so Telegram delivers the update again.
    func enqueue(_ messages: [BotMessage], update: Int64, botToken: String) async throws {
        try await store.enqueue(Self.outboxMessages(messages, update: update, botToken: botToken), now: Date())
        dispatcher.nudge()
    }

    /// The outbox items of the replies to `update`, keyed by their index (see ``TelegramSender``).
    static func outboxMessages(_ messages: [BotMessage], update: Int64, botToken: String) -> [OutboxMessage] {
        let botID = TelegramSender.botID(token: botToken)
        return messages.enumerated().map { index, message in
            TelegramSender.outboxMessage(message, botID: botID, updateID: update, index: index)
        }
    }

    static func ok(_ outcome: String) -> HTTPResponse {
        JSONResponse.make(.object(["ok": .bool(true), "outcome": .string(outcome)]))
    }
}

/// The bot's Russian texts.
enum TelegramTexts {
    static let start =
        "Здравствуйте! Здесь можно подать заявление о страховом случае. Нажмите «Открыть приложение», чтобы начать "
        + "новое заявление или продолжить черновик."
    static let openApp = "Открыть приложение"
    static let askContact =
        "Чтобы видеть те же черновики на сайте, поделитесь своим номером телефона кнопкой ниже."
    static let shareContact = "Поделиться номером"
    static let foreignContact =
        "Можно поделиться только своим номером: нажмите кнопку «Поделиться номером» под полем ввода."
    static let unusablePhone =
        "Этот номер не подходит: нужен российский мобильный номер, начинающийся с +7 9."
    static let continueInApp = "Продолжить в приложении:"

    static func linked(_ phone: PhoneNumber) -> String {
        "Готово: номер \(phone.masked) привязан. Ваши черновики видны и на сайте после входа по этому номеру."
    }
}
