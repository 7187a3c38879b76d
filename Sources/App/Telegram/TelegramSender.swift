import AppCore
import FoundationEssentials
import HTTPClient

/// Sends the bot's replies from the outbox: `POST <base>/bot<token>/sendMessage` with the item's body.
///
/// How a Bot API answer ends an item:
/// - 2xx with `"ok": true` → delivered;
/// - 400 and 403 (the person blocked the bot, the chat is gone, a malformed message) → dead at once: sending it
///   again cannot succeed, and it stays listed by `clpr outbox --dead`;
/// - anything else (429, 5xx, 401/404 for a wrong token, a timeout, no connection) → retried with backoff until
///   the outbox's maximum age.
///
/// The token is part of the URL, so it appears in nothing this type returns or logs.
struct TelegramSender: OutboxSender {
    let baseURL: String
    let token: String
    let client: HTTPClient

    var kind: OutboxKind { .telegramMessage }
    /// A chat sees the replies in the order they were written.
    var sendsInOrder: Bool { true }

    func send(_ item: OutboxItem, timeout: Duration) async -> OutboxSendResult {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let response: HTTPClient.Response
        do {
            response = try await client.post(
                url: "\(base)/bot\(token)/sendMessage", headers: [("Content-Type", "application/json")],
                body: Array(item.body.utf8), timeout: timeout)
        } catch let failure as HTTPClient.Failure {
            return .failed(redacted("\(failure.code): \(failure.message)"))
        } catch {
            return .failed(redacted("\(error)"))
        }
        let answer = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        if (200..<300).contains(response.status), case .object(let fields)? = answer, fields["ok"] == .bool(true) {
            return .delivered
        }
        var error = "HTTP \(response.status)"
        if case .object(let fields)? = answer, case .string(let text)? = fields["description"] {
            error += ": " + String(text.prefix(200))
        }
        return response.status == 400 || response.status == 403 ? .refused(redacted(error)) : .failed(redacted(error))
    }

    /// `text` without the token, should an error ever quote the URL.
    private func redacted(_ text: String) -> String {
        token.isEmpty ? text : text.replacing(token, with: "<token>")
    }

    // MARK: - Bodies

    /// The outbox item of reply `index` to Telegram update `updateID`: the `sendMessage` body, keyed by the bot's
    /// id (the token's public part before `:`), the update and the index, so an update Telegram delivers again is
    /// not answered twice, and a new bot's update ids do not collide with an old one's.
    static func outboxMessage(_ message: BotMessage, botID: String, updateID: Int64, index: Int) -> OutboxMessage {
        OutboxMessage(
            kind: .telegramMessage, key: "\(botID):\(updateID):\(index)", body: CompactJSON.encode(body(message)),
            resendWhenFinished: false)
    }

    /// The bot's id: the part of the token before `:` (public: it is the bot's user id).
    static func botID(token: String) -> String {
        String(token.prefix { $0 != ":" })
    }

    /// The `sendMessage` parameters of `message`.
    static func body(_ message: BotMessage) -> JSONValue {
        var body: [String: JSONValue] = ["chat_id": .number(Double(message.chatID)), "text": .string(message.text)]
        if let keyboard = message.keyboard { body["reply_markup"] = markup(keyboard) }
        return .object(body)
    }

    static func markup(_ keyboard: BotMessage.Keyboard) -> JSONValue {
        switch keyboard {
        case .openMiniApp(let text, let url):
            .object([
                "inline_keyboard": .array([
                    .array([.object(["text": .string(text), "web_app": .object(["url": .string(url)])])])
                ])
            ])
        case .requestContact(let text):
            .object([
                "keyboard": .array([.array([.object(["text": .string(text), "request_contact": .bool(true)])])]),
                "resize_keyboard": .bool(true), "one_time_keyboard": .bool(true),
            ])
        case .remove:
            .object(["remove_keyboard": .bool(true)])
        }
    }
}
