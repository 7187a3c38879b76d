import AppCore
import FoundationEssentials
import HTTPClient

/// The Bot API over HTTP: `POST <base>/bot<token>/sendMessage` with a JSON body.
///
/// Called off the request path (the webhook answers Telegram first). To do after the outbox (issue 5) lands:
/// write these calls to the outbox in the webhook's transaction and let its dispatcher send them with retries.
struct HTTPTelegramBotAPI: TelegramBotAPI {
    /// A refused or failed call; never carries the token (which is part of the URL).
    struct Failed: Error, CustomStringConvertible {
        var status: Int?
        var telegramError: String?
        var description: String {
            "Bot API call failed (status \(status.map(String.init) ?? "none"), \(telegramError ?? "no description"))"
        }
    }

    let baseURL: String
    let token: String
    let client: HTTPClient

    func sendMessage(_ message: BotMessage) async throws {
        var body: [String: JSONValue] = ["chat_id": .number(Double(message.chatID)), "text": .string(message.text)]
        if let keyboard = message.keyboard { body["reply_markup"] = Self.markup(keyboard) }
        try await call("sendMessage", .object(body))
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

    private func call(_ method: String, _ body: JSONValue) async throws {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let response: HTTPClient.Response
        do {
            response = try await client.post(
                url: "\(base)/bot\(token)/\(method)", headers: [("Content-Type", "application/json")],
                body: body.jsonBytes, timeout: .seconds(10))
        } catch {
            throw Failed(status: nil, telegramError: "\(error)")
        }
        let answer = try? JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        guard response.status == 200, case .object(let fields)? = answer, fields["ok"] == .bool(true) else {
            var description: String?
            if case .object(let fields)? = answer, case .string(let text)? = fields["description"] {
                description = String(text.prefix(200))
            }
            throw Failed(status: response.status, telegramError: description)
        }
    }
}
