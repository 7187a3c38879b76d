import AppCore
import Crypto
import FoundationEssentials

/// Telegram Mini App `initData`, checked exactly as Telegram documents it
/// ("Validating data received via the Mini App"):
///
/// 1. the query string is split into fields, each percent-decoded (`+` is a space, as `URLSearchParams` does);
/// 2. the data-check string is every field except `hash`, as `key=value` with the **raw decoded** value (never
///    re-serialized JSON: `\/` escapes inside `user` must stay as sent), sorted by key, joined with `\n`;
/// 3. `secret_key = HMAC-SHA256(key: "WebAppData", message: bot_token)`;
/// 4. `hash` must equal hex `HMAC-SHA256(key: secret_key, message: data_check_string)`, compared in constant time;
/// 5. `auth_date` must be no older than the allowed age and not in the future (a small clock skew is tolerated).
///
/// Only then is `user` parsed.
struct TelegramInitData: Sendable, Equatable {
    /// Why `initData` was refused; the code goes into the API error, nothing of the data into logs.
    enum Failure: String, Error, Sendable {
        case malformed = "init_data_malformed"
        case hashMissing = "init_data_hash_missing"
        case hashMismatch = "init_data_invalid"
        case authDateMissing = "init_data_auth_date_missing"
        case expired = "init_data_expired"
        case fromTheFuture = "init_data_from_the_future"
        case userMissing = "init_data_user_missing"
    }

    /// The fields as decoded, by key.
    var fields: [String: String]
    var authDate: Date
    var user: TelegramProfile

    /// Clock skew tolerated for `auth_date` ahead of the server's clock.
    static let allowedSkew: Double = 30

    /// Validates `raw` against `botToken`.
    /// - Parameters:
    ///   - raw: the Mini App's `Telegram.WebApp.initData`, as it came.
    ///   - botToken: the bot's token (`CLPR_TELEGRAM_BOT_TOKEN`).
    ///   - maxAge: the oldest `auth_date` accepted.
    ///   - now: the current time.
    /// - Throws: ``Failure``.
    init(validating raw: String, botToken: String, maxAge: Duration, now: Date = Date()) throws(Failure) {
        var fields: [String: String] = [:]
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.formDecode(parts[0]), !key.isEmpty,
                let value = Self.formDecode(parts.count > 1 ? parts[1] : ""), fields[key] == nil
            else { throw .malformed }
            fields[key] = value
        }
        guard let hash = fields["hash"], !hash.isEmpty else { throw .hashMissing }
        let dataCheckString = fields.filter { $0.key != "hash" }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        let secretKey = Crypto.hmacSHA256(key: Array("WebAppData".utf8), message: Array(botToken.utf8))
        let expected = Crypto.hmacSHA256(key: secretKey, message: Array(dataCheckString.utf8))
        guard let given = Crypto.fromHex(hash), Crypto.constantTimeEquals(given, expected) else {
            throw .hashMismatch
        }

        guard let authText = fields["auth_date"], let seconds = Int64(authText) else { throw .authDateMissing }
        let authDate = Date(timeIntervalSince1970: Double(seconds))
        let age = now.timeIntervalSince(authDate)
        guard age >= -Self.allowedSkew else { throw .fromTheFuture }
        guard age <= maxAge.timeInterval else { throw .expired }

        guard let userText = fields["user"], let user = Self.profile(fromJSON: userText) else { throw .userMissing }
        self.fields = fields
        self.authDate = authDate
        self.user = user
    }

    /// `initData.user` (JSON) as a profile; nil without a positive integer `id`.
    static func profile(fromJSON text: String) -> TelegramProfile? {
        struct Wire: Decodable {
            var id: Int64
            var first_name: String?
            var last_name: String?
            var username: String?
            var language_code: String?
            var is_premium: Bool?
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(text.utf8)), wire.id > 0 else { return nil }
        return TelegramProfile(
            id: wire.id, firstName: wire.first_name, lastName: wire.last_name, username: wire.username,
            languageCode: wire.language_code, isPremium: wire.is_premium)
    }

    /// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; nil for a bad escape or
    /// bytes that are not UTF-8.
    static func formDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = Crypto.fromHex(String(decoding: [high, low], as: UTF8.self))?.first
                else { return nil }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
