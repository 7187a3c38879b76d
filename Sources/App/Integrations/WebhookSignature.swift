import Crypto
import FoundationEssentials

/// The signature on every webhook clpr sends and on every plan callback it accepts (docs/n8n.md):
/// `X-Clpr-Timestamp: <unix seconds>` and `X-Clpr-Signature: <hex HMAC-SHA256(secret, timestamp + "." + body)>`.
struct WebhookSignature: Sendable {
    static let timestampHeader = "X-Clpr-Timestamp"
    static let signatureHeader = "X-Clpr-Signature"

    /// How far a callback's timestamp may be from our clock, either way. 300 s.
    static let tolerance: Double = 300

    let secret: [UInt8]

    init(secret: String) { self.secret = Array(secret.utf8) }

    /// The hex signature of `body` sent at `timestamp` (unix seconds as text).
    func sign(timestamp: String, body: [UInt8]) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: secret, message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body))
    }

    /// The two headers for `body` sent now.
    func headers(body: [UInt8], now: Date = Date()) -> [(String, String)] {
        let timestamp = String(Int64(now.timeIntervalSince1970))
        return [(Self.timestampHeader, timestamp), (Self.signatureHeader, sign(timestamp: timestamp, body: body))]
    }

    /// Why a signed request is refused.
    enum Rejection: Error, Equatable {
        case missing, malformedTimestamp, stale, mismatch
    }

    /// Checks a received request: the timestamp within ``tolerance`` of `now` and the signature (constant time).
    /// - Returns: the normalized (lowercase) signature, the replay key.
    func verify(timestamp: String?, signature: String?, body: [UInt8], now: Date = Date()) throws(Rejection)
        -> String
    {
        guard let timestamp, let signature else { throw .missing }
        guard timestamp.count <= 12, let seconds = Int64(timestamp) else { throw .malformedTimestamp }
        guard abs(now.timeIntervalSince1970 - Double(seconds)) <= Self.tolerance else { throw .stale }
        let given = signature.lowercased()
        let expected = sign(timestamp: timestamp, body: body)
        guard Crypto.constantTimeEquals(Array(given.utf8), Array(expected.utf8)) else { throw .mismatch }
        return expected
    }
}
