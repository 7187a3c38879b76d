import App
import Crypto
import Foundation

/// Builds Mini App `initData` the way Telegram signs it, for tests.
public enum TelegramInitDataFixture {
    public static let botToken = "123456789:AAtest-token_for-clpr-tests-only"
    public static let webhookSecret = "clpr-webhook-secret_123"

    /// Signed `initData` (URL-encoded, as `Telegram.WebApp.initData` is) for `fields` (raw values).
    /// - Parameters:
    ///   - fields: raw values by key, `hash` excluded (it is computed).
    ///   - botToken: the token to sign with.
    public static func signed(_ fields: [String: String], botToken: String = botToken) -> String {
        let dataCheckString = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: "\n")
        let secret = Crypto.hmacSHA256(key: Array("WebAppData".utf8), message: Array(botToken.utf8))
        let hash = Crypto.hex(Crypto.hmacSHA256(key: secret, message: Array(dataCheckString.utf8)))
        return encode(fields.map { ($0.key, $0.value) } + [("hash", hash)])
    }

    /// The usual fields of a fresh Mini App launch for Telegram user `id`.
    public static func fields(
        id: Int64, authDate: Date = Date(), firstName: String = "Иван", extraUser: String = ""
    ) -> [String: String] {
        [
            "auth_date": String(Int64(authDate.timeIntervalSince1970)),
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": #"{"id":\#(id),"first_name":"\#(firstName)","last_name":"","username":"user\#(id)","#
                + #""language_code":"ru","allows_write_to_pm":true\#(extraUser)}"#,
        ]
    }

    /// `application/x-www-form-urlencoded`, every byte but unreserved ones escaped.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// A Telegram configuration pointing the Bot API at `apiURL` (a ``FakeHTTPReceiver``).
    public static func configuration(apiURL: String, maxAge: Duration = .seconds(86_400))
        -> Application.Configuration.Telegram
    {
        Application.Configuration.Telegram(
            botToken: botToken, webhookSecret: webhookSecret, initDataMaxAge: maxAge,
            webAppURL: "https://clpr.example/", apiURL: apiURL)
    }
}

extension TestApplication {
    /// `POST /api/v1/auth/telegram` with `initData`.
    public func telegramLogin(_ initData: String) async throws -> TestResponse {
        try await json("POST", "/api/v1/auth/telegram", ["init_data": initData])
    }

    /// `POST /api/v1/telegram/webhook` with a raw update and the secret header (`nil` leaves it out).
    public func telegramUpdate(
        _ update: String, secret: String? = TelegramInitDataFixture.webhookSecret
    ) async throws -> TestResponse {
        var headers: [(String, String)] = []
        if let secret { headers.append(("X-Telegram-Bot-Api-Secret-Token", secret)) }
        return try await json("POST", "/api/v1/telegram/webhook", raw: update, headers: headers)
    }

    /// A bot update: a message from Telegram user `from` in their private chat with `text` or a shared contact.
    public static func update(from: Int64, text: String? = nil, contact: (phone: String, userID: Int64?)? = nil)
        -> String
    {
        var message =
            #""message_id":1,"date":1796306709,"chat":{"id":\#(from),"type":"private"},"#
            + #""from":{"id":\#(from),"is_bot":false,"first_name":"Иван"}"#
        if let text { message += #","text":"\#(text)""# }
        if let contact {
            message += #","contact":{"phone_number":"\#(contact.phone)","first_name":"Иван""#
            if let userID = contact.userID { message += #","user_id":\#(userID)"# }
            message += "}"
        }
        return #"{"update_id":\#(Int.random(in: 1...1_000_000)),"message":{\#(message)}}"#
    }
}
