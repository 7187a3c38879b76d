import FoundationEssentials

/// What an outbox item is for; the dispatcher picks the sender by it. Stored as text in `clpr_outbox.kind`.
public struct OutboxKind: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    /// A submission handed to the n8n workflow (key: the submission id).
    public static let planRequest = OutboxKind(rawValue: "n8n.plan")
    /// A person's phone registered with the CRM (key: the E.164 phone).
    public static let crmContact = OutboxKind(rawValue: "crm.contact")
    /// A bot reply: the body of a Bot API `sendMessage` call (key: bot id, Telegram's `update_id` and the reply's
    /// index, so an update Telegram delivers twice is answered once).
    public static let telegramMessage = OutboxKind(rawValue: "telegram.sendMessage")

    public var description: String { rawValue }
}

/// An outgoing call to make, written in the same transaction as the state change it belongs to.
///
/// `(kind, key)` is unique: enqueuing the same key again does not create a second call. With
/// ``resendWhenFinished`` a finished (sent or dead) item is armed again instead (a retried submission is sent
/// again under the same submission id); without it the first call is the only one (a CRM contact per phone).
public struct OutboxMessage: Sendable, Equatable {
    public var kind: OutboxKind
    /// The deduplication key within ``kind``.
    public var key: String
    /// The request body (JSON text), signed when sent.
    public var body: String
    /// Whether enqueuing the key again re-arms a finished item. A pending one is never duplicated.
    public var resendWhenFinished: Bool

    public init(kind: OutboxKind, key: String, body: String, resendWhenFinished: Bool) {
        self.kind = kind
        self.key = key
        self.body = body
        self.resendWhenFinished = resendWhenFinished
    }
}

/// Where an outbox item stands.
public enum OutboxState: String, Sendable, CaseIterable {
    /// Waiting for its next attempt (or being sent under a lease).
    case pending
    /// A 2xx answer ended it.
    case sent
    /// Given up: too old or refused for good. Listed by `clpr outbox --dead`.
    case dead
}

/// A stored outbox row.
public struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var kind: OutboxKind
    public var key: String
    public var body: String
    public var state: OutboxState
    /// Attempts started so far (a lease counts as one).
    public var attempts: Int
    /// When the item was enqueued (or re-armed): the maximum age counts from here.
    public var createdAt: Date
    public var nextAttemptAt: Date
    /// The latest failure, safe to log (status code or transport error; never a body or a secret).
    public var lastError: String?
    public var finishedAt: Date?

    public init(
        id: Int64, kind: OutboxKind, key: String, body: String, state: OutboxState, attempts: Int, createdAt: Date,
        nextAttemptAt: Date, lastError: String? = nil, finishedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.key = key
        self.body = body
        self.state = state
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.finishedAt = finishedAt
    }
}

/// How an attempt ended, as the dispatcher records it.
public enum OutboxCompletion: Sendable, Equatable {
    case sent(at: Date)
    case retry(at: Date, error: String)
    case dead(at: Date, error: String)
}

/// Exponential backoff with jitter and a maximum age: the outbox's retry rules, pure.
public struct OutboxRetryPolicy: Sendable, Equatable {
    /// The wait after the first failure. Default 1 s.
    public var baseDelay: Duration
    /// The longest wait between attempts. Default 5 min.
    public var maxDelay: Duration
    /// After this long since enqueuing, a failure makes the item dead. Default 24 h.
    public var maxAge: Duration

    public init(
        baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300), maxAge: Duration = .seconds(86_400)
    ) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAge = maxAge
    }

    /// The wait after failed attempt number `attempts` (1 = the first): `base · 2^(attempts-1)`, capped at
    /// ``maxDelay``, then scaled by `jitter` (0…1) into its upper half ("equal jitter": never less than half, so
    /// retries of many items spread out but none retries at once).
    public func delay(afterAttempts attempts: Int, jitter: Double) -> Duration {
        let exponent = min(max(attempts - 1, 0), 30)
        let raw = baseDelay * (1 << exponent)
        let capped = min(raw, maxDelay)
        let factor = 0.5 + 0.5 * min(max(jitter, 0), 1)
        return capped * factor
    }

    /// What to record after a failed attempt: a retry, or dead when the item is older than ``maxAge``.
    public func completion(for item: OutboxItem, error: String, now: Date, jitter: Double) -> OutboxCompletion {
        if now.timeIntervalSince(item.createdAt) >= maxAge.timeInterval {
            return .dead(at: now, error: error)
        }
        return .retry(at: now.adding(delay(afterAttempts: item.attempts, jitter: jitter)), error: error)
    }
}

/// The outbox's backlog at one moment (``OutboxStore/outboxDepth()``).
public struct OutboxDepth: Sendable, Equatable {
    /// Items waiting for an attempt (or being sent).
    public var pending: Int
    /// Items given up after their maximum age (`clpr outbox --dead`).
    public var dead: Int
    /// When the oldest pending item was enqueued; nil when nothing waits.
    public var oldestPendingCreatedAt: Date?

    public init(pending: Int, dead: Int, oldestPendingCreatedAt: Date?) {
        self.pending = pending
        self.dead = dead
        self.oldestPendingCreatedAt = oldestPendingCreatedAt
    }
}

/// Outgoing calls (the outbox) and the bookkeeping of the integrations that use it.
public protocol OutboxStore: Sendable {
    /// Writes `messages` (see ``OutboxMessage`` for what a repeated key does), due at once.
    func enqueue(_ messages: [OutboxMessage], now: Date) async throws

    /// ``ClaimStore/updateClaim(id:_:)`` that also enqueues what `change` returns, in the same transaction: the
    /// claim's new state and its outgoing calls are written together or not at all.
    func updateClaim(id: String, enqueueing change: @escaping @Sendable (inout Claim) throws -> [OutboxMessage])
        async throws -> Claim

    /// ``ClaimStore/insertClaim(_:)`` that also enqueues `messages`, in the same transaction: a claim created and
    /// submitted in one request is written with its outgoing calls, or not at all.
    func insertClaim(_ claim: Claim, enqueueing messages: [OutboxMessage]) async throws

    /// ``IdentityStore/linkTelegramPhone(telegramID:phone:)`` that also enqueues `messages` (the bot's replies),
    /// in the same transaction: the link and its confirmation are written together or not at all.
    func linkTelegramPhone(telegramID: Int64, phone: String, enqueueing messages: [OutboxMessage]) async throws
        -> PhoneLink

    /// Leases up to `limit` due pending items of `kind` to `owner` until `leaseUntil` and counts an attempt on
    /// each. Items leased by another owner whose lease has not run out are skipped (PostgreSQL: `FOR UPDATE SKIP
    /// LOCKED`), so with several instances each item is sent by one of them at a time.
    func leaseOutboxItems(kind: OutboxKind, now: Date, limit: Int, leaseUntil: Date, owner: String) async throws
        -> [OutboxItem]

    /// Records an attempt's end, only if `owner` still holds the lease (a sender whose lease ran out and was
    /// taken over writes nothing). - Returns: whether it was recorded.
    @discardableResult
    func completeOutboxItem(id: Int64, owner: String, _ completion: OutboxCompletion) async throws -> Bool

    /// Items in `states`, newest first, at most `limit`.
    func outboxItems(states: [OutboxState], limit: Int) async throws -> [OutboxItem]

    /// How many items wait and how many were given up, and when the oldest waiting one was written (for
    /// `/metrics`). Read from partial indexes on `state`: the cost follows the pending and dead items, not the
    /// sent ones that pile up.
    func outboxDepth() async throws -> OutboxDepth

    /// Remembers a callback signature; false when it was seen before (a replay). Signatures received before
    /// `forgetBefore` are dropped (a replay that old fails the timestamp check anyway).
    func rememberCallbackSignature(_ signature: String, receivedAt: Date, forgetBefore: Date) async throws -> Bool

    /// Keeps the CRM's contact id on every user with this phone.
    func setCRMContactID(_ contactID: String, phone: String) async throws
    /// The CRM contact id kept on the user, if any.
    func crmContactID(unifiedID: String) async throws -> String?
}
