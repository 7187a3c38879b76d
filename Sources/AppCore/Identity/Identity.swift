import FoundationEssentials

/// The channels a person can come through; raw values are the seed's `clpr_user_accounts.channel` values.
public enum Channel: String, Sendable, Codable, CaseIterable {
    case webForm = "web_form"
    case telegram = "telegram"
}

/// A row of `clpr_users`: one person across channels, keyed by `unified_id`.
public struct User: Sendable, Equatable {
    /// `clpr_users.id`.
    public var id: Int64
    /// `usr_` + a random UUID; the key every claim carries.
    public var unifiedID: String
    /// E.164 when known.
    public var phone: String?

    public init(id: Int64, unifiedID: String, phone: String?) {
        self.id = id
        self.unifiedID = unifiedID
        self.phone = phone
    }
}

/// A signed-in browser: the cookie holds the token, storage holds only its SHA-256.
public struct Session: Sendable, Equatable {
    /// Hex SHA-256 of the cookie token.
    public var tokenHash: String
    public var userID: Int64
    public var unifiedID: String
    public var channel: Channel
    public var createdAt: Date
    public var expiresAt: Date

    public init(tokenHash: String, userID: Int64, unifiedID: String, channel: Channel, createdAt: Date, expiresAt: Date)
    {
        self.tokenHash = tokenHash
        self.userID = userID
        self.unifiedID = unifiedID
        self.channel = channel
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A one-time login code as stored: only a keyed hash of the code, never the code.
public struct LoginCode: Sendable, Equatable {
    public var phone: String
    /// Hex HMAC-SHA256 of phone + code under the key all instances share (`clpr_server_keys`).
    public var codeHash: String
    public var createdAt: Date
    public var expiresAt: Date
    /// Wrong tries so far.
    public var failedAttempts: Int

    public init(phone: String, codeHash: String, createdAt: Date, expiresAt: Date, failedAttempts: Int = 0) {
        self.phone = phone
        self.codeHash = codeHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.failedAttempts = failedAttempts
    }
}

/// The rules for one-time codes.
public struct LoginCodePolicy: Sendable {
    /// Digits in a code. Default 6.
    public var length: Int
    /// How long a code is valid. Default 300 s.
    public var lifetime: Duration
    /// Wrong tries allowed before the code is locked. Default 5.
    public var maxFailedAttempts: Int
    /// The shortest wait before another code is sent to the same phone. Default 60 s.
    public var resendAfter: Duration

    public init(
        length: Int = 6, lifetime: Duration = .seconds(300), maxFailedAttempts: Int = 5,
        resendAfter: Duration = .seconds(60)
    ) {
        self.length = length
        self.lifetime = lifetime
        self.maxFailedAttempts = maxFailedAttempts
        self.resendAfter = resendAfter
    }
}

extension Date {
    /// `self + duration`, for `Duration`-typed policies.
    public func adding(_ duration: Duration) -> Date {
        let (seconds, attoseconds) = duration.components
        return addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
    }
}

extension Duration {
    /// Whole seconds, rounded up (for `Retry-After`).
    public var secondsRoundedUp: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }

    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The state of one rate-limit bucket after counting an event.
public struct RateCount: Sendable, Equatable {
    /// Events in the current window, the one just counted included.
    public var count: Int
    public var windowStart: Date

    public init(count: Int, windowStart: Date) {
        self.count = count
        self.windowStart = windowStart
    }
}
