import AppCore
import Crypto
import FoundationEssentials

/// The signature on clpr's outgoing webhooks, the same for every receiver (n8n, an SMS gateway):
/// `X-Clpr-Timestamp: <unix seconds>` and `X-Clpr-Signature: hex(HMAC-SHA256(secret, timestamp + "." + body))`.
/// A receiver recomputes it over the raw body and refuses old timestamps (replays).
enum WebhookSignature {
    static let timestampHeader = "X-Clpr-Timestamp"
    static let signatureHeader = "X-Clpr-Signature"

    /// The two header fields for `body` sent at `now`.
    static func headers(body: [UInt8], secret: String, now: Date = Date()) -> [(String, String)] {
        let timestamp = String(Int64(now.timeIntervalSince1970))
        return [
            (timestampHeader, timestamp),
            (signatureHeader, signature(timestamp: timestamp, body: body, secret: secret)),
        ]
    }

    /// Hex HMAC-SHA256 of `timestamp + "." + body` under `secret`.
    static func signature(timestamp: String, body: [UInt8], secret: String) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: Array(secret.utf8), message: Array((timestamp + ".").utf8) + body))
    }
}

extension JSONValue {
    /// Compact JSON bytes with sorted keys and unescaped slashes.
    var jsonBytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map(Array.init) ?? Array("null".utf8)
    }
}
