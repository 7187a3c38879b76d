import AppCore
import Foundation

/// ``IdentityStore`` and ``ClaimStore`` in memory, with the SQLite store's semantics, for fast router-level tests.
///
/// Differences from the SQLite store, on purpose: dates keep full precision (SQLite keeps milliseconds), and
/// `wizardPlan` / `documentsMeta` come back exactly as written (SQLite returns canonical JSON text).
public actor InMemoryStore: IdentityStore, ClaimStore {
    /// A kept dead letter, as stored by ``storeDeadLetter(channel:payload:reason:receivedAt:)``.
    public struct DeadLetter: Sendable, Equatable {
        public var channel: String
        public var payload: [UInt8]
        public var reason: String
        public var receivedAt: Date
    }

    private struct AccountKey: Hashable {
        var channel: Channel
        var channelUserID: String
    }

    private struct PlanKey: Hashable {
        var sessionToken: String
        var submissionID: String
    }

    private var users: [Int64: User] = [:]
    private var nextUserID: Int64 = 1
    private var accounts: [AccountKey: Int64] = [:]
    private var loginCodes: [String: LoginCode] = [:]
    private var sessions: [String: Session] = [:]
    private var rateBuckets: [String: RateCount] = [:]
    /// `clpr_users_tg` rows by Telegram id.
    public private(set) var telegramUsers: [Int64: (profile: TelegramProfile, unifiedID: String, phone: String?)] =
        [:]
    /// `clpr_users.merged_into` by user id.
    public private(set) var mergedInto: [Int64: String] = [:]
    private var claimsByID: [String: Claim] = [:]
    private var planRecords: [PlanKey: PlanRecord] = [:]
    /// Outbox rows, callback signatures and CRM contact ids (``OutboxStore``).
    var outbox = InMemoryOutbox()
    /// Every dead letter kept so far, oldest first.
    public private(set) var deadLetters: [DeadLetter] = []

    /// An empty store.
    public init() {}

    // MARK: - IdentityStore

    /// Finds the user owning `(channel, channelUserID)` or creates user (`usr_` + lowercase UUID) and account.
    public func findOrCreateUser(channel: Channel, channelUserID: String, phone: String?) async throws -> User {
        let key = AccountKey(channel: channel, channelUserID: channelUserID)
        if let userID = accounts[key], let user = users[userID] { return user }
        let user = User(id: nextUserID, unifiedID: "usr_" + UUID().uuidString.lowercased(), phone: phone)
        nextUserID += 1
        users[user.id] = user
        accounts[key] = user.id
        return user
    }

    /// The user with this `unified_id`, or nil.
    public func user(unifiedID: String) async throws -> User? {
        users.values.first { $0.unifiedID == unifiedID }
    }

    public func telegramID(unifiedID: String) async throws -> Int64? {
        guard let user = users.values.first(where: { $0.unifiedID == unifiedID }) else { return nil }
        return accounts.filter { $0.value == user.id && $0.key.channel == .telegram }
            .compactMap { Int64($0.key.channelUserID) }.min()
    }

    /// Counts one event in the bucket's fixed window.
    public func countRateEvent(bucket: String, window: Duration, now: Date) async throws -> RateCount {
        var current = rateBuckets[bucket] ?? RateCount(count: 0, windowStart: now)
        if current.windowStart <= now.adding(.zero - window) { current = RateCount(count: 0, windowStart: now) }
        current.count += 1
        rateBuckets[bucket] = current
        return current
    }

    public func uncountRateEvent(bucket: String) async throws {
        if let current = rateBuckets[bucket], current.count > 0 { rateBuckets[bucket]?.count = current.count - 1 }
    }

    /// Deletes the phone's code if it still has `codeHash`; true when this call deleted it.
    public func consumeLoginCode(phone: String, codeHash: String) async throws -> Bool {
        guard loginCodes[phone]?.codeHash == codeHash else { return false }
        loginCodes[phone] = nil
        return true
    }

    /// Finds or creates the `telegram` account's user and records the profile.
    public func upsertTelegramUser(_ profile: TelegramProfile) async throws -> User {
        let user = try await findOrCreateUser(channel: .telegram, channelUserID: String(profile.id), phone: nil)
        telegramUsers[profile.id] = (profile, user.unifiedID, telegramUsers[profile.id]?.phone)
        return user
    }

    /// Links the Telegram user to the phone, merging by the rule on ``PhoneLink``.
    public func linkTelegramPhone(telegramID: Int64, phone: String) async throws -> PhoneLink {
        let telegramUser = try await findOrCreateUser(channel: .telegram, channelUserID: String(telegramID), phone: nil)
        let webKey = AccountKey(channel: .webForm, channelUserID: phone)
        var link: PhoneLink
        if let webUserID = accounts[webKey], let webUser = users[webUserID] {
            if webUser.id == telegramUser.id {
                link = PhoneLink(user: webUser, outcome: .alreadyLinked)
            } else {
                for (key, owner) in accounts where owner == telegramUser.id { accounts[key] = webUser.id }
                var moved = 0
                for (id, claim) in claimsByID where claim.unifiedID == telegramUser.unifiedID {
                    claimsByID[id]?.unifiedID = webUser.unifiedID
                    claimsByID[id]?.userID = webUser.id
                    moved += 1
                }
                for (id, row) in telegramUsers where row.unifiedID == telegramUser.unifiedID {
                    telegramUsers[id]?.unifiedID = webUser.unifiedID
                }
                for (hash, session) in sessions where session.unifiedID == telegramUser.unifiedID {
                    sessions[hash]?.unifiedID = webUser.unifiedID
                    sessions[hash]?.userID = webUser.id
                }
                mergedInto[telegramUser.id] = webUser.unifiedID
                link = PhoneLink(user: webUser, outcome: .merged, movedClaims: moved)
            }
        } else {
            accounts[webKey] = telegramUser.id
            link = PhoneLink(user: telegramUser, outcome: .linked)
        }
        if users[link.user.id]?.phone == nil { users[link.user.id]?.phone = phone }
        link.user = users[link.user.id] ?? link.user
        let profile = telegramUsers[telegramID]?.profile ?? TelegramProfile(id: telegramID)
        telegramUsers[telegramID] = (profile, link.user.unifiedID, phone)
        return link
    }

    /// Replaces any code (and its attempt count) for the code's phone.
    public func saveLoginCode(_ code: LoginCode) async throws {
        loginCodes[code.phone] = code
    }

    /// The stored code for `phone`, expired or not.
    public func loginCode(phone: String) async throws -> LoginCode? {
        loginCodes[phone]
    }

    /// Adds one wrong try; nil when there is no code for `phone`.
    public func recordFailedLoginAttempt(phone: String) async throws -> Int? {
        guard var code = loginCodes[phone] else { return nil }
        code.failedAttempts += 1
        loginCodes[phone] = code
        return code.failedAttempts
    }

    /// Removes the code for `phone`; a no-op when there is none.
    public func deleteLoginCode(phone: String) async throws {
        loginCodes[phone] = nil
    }

    /// Stores a new session.
    /// - Throws: ``StoreError/Code/conflict`` if the token hash is taken.
    public func createSession(_ session: Session) async throws {
        guard sessions[session.tokenHash] == nil else {
            throw StoreError(.conflict, operation: "create session", detail: "token_hash taken")
        }
        sessions[session.tokenHash] = session
    }

    /// The session with `tokenHash`, expired or not; nil when absent.
    public func session(tokenHash: String) async throws -> Session? {
        sessions[tokenHash]
    }

    /// Moves the expiry; a no-op when the session is gone.
    public func renewSession(tokenHash: String, expiresAt: Date) async throws {
        sessions[tokenHash]?.expiresAt = expiresAt
    }

    /// Removes the session; a no-op when there is none.
    public func deleteSession(tokenHash: String) async throws {
        sessions[tokenHash] = nil
    }

    /// Removes every session of the person; returns how many there were.
    public func deleteSessions(unifiedID: String) async throws -> Int {
        let hashes = sessions.filter { $0.value.unifiedID == unifiedID }.map(\.key)
        for hash in hashes { sessions[hash] = nil }
        return hashes.count
    }

    // MARK: - ClaimStore

    /// Inserts a new claim.
    /// - Throws: ``StoreError/Code/conflict`` if the id or the session token is taken.
    public func insertClaim(_ claim: Claim) async throws {
        guard claimsByID[claim.id] == nil, !claimsByID.values.contains(where: { $0.sessionToken == claim.sessionToken })
        else { throw StoreError(.conflict, operation: "insert claim", detail: "id or session_token taken") }
        claimsByID[claim.id] = claim
    }

    /// The claim with `id`, or nil.
    public func claim(id: String) async throws -> Claim? {
        claimsByID[id]
    }

    /// The claim of the wizard session `sessionToken`, or nil.
    public func claim(sessionToken: String) async throws -> Claim? {
        claimsByID.values.first { $0.sessionToken == sessionToken }
    }

    /// Loads, changes and writes back the claim atomically; the `id` cannot change.
    /// - Throws: ``StoreError/Code/notFound`` if there is no such claim; what `change` throws (nothing written).
    public func updateClaim(
        id: String, _ change: @escaping @Sendable (inout Claim) throws -> Void
    ) async throws -> Claim {
        try updateClaimSynchronously(id: id, change)
    }

    /// The body of ``updateClaim(id:_:)``, without a suspension point (the outbox variant enqueues after it).
    func updateClaimSynchronously(id: String, _ change: (inout Claim) throws -> Void) throws -> Claim {
        guard var claim = claimsByID[id] else { throw StoreError(.notFound, operation: "update claim") }
        try change(&claim)
        claim.id = id
        claimsByID[id] = claim
        return claim
    }

    /// Drafts of a person by `unified_id`, every channel, newest change first.
    public func drafts(unifiedID: String, limit: Int) async throws -> [Claim] {
        newestFirst(claimsByID.values.filter { $0.unifiedID == unifiedID && $0.status == .draft }, limit: limit)
    }

    /// Every claim of a person by `unified_id`, newest change first.
    public func claims(unifiedID: String, limit: Int) async throws -> [Claim] {
        newestFirst(claimsByID.values.filter { $0.unifiedID == unifiedID }, limit: limit)
    }

    /// Records a submission's outcome once; a current plan also becomes the claim's `wizardPlan`.
    public func storePlanRecord(_ record: PlanRecord) async throws -> PlanStoreResult {
        guard var claim = claimsByID.values.first(where: { $0.sessionToken == record.sessionToken }) else {
            return .unknownToken
        }
        if let claimID = record.claimID, claimID != claim.id { return .claimMismatch }
        let key = PlanKey(sessionToken: record.sessionToken, submissionID: record.submissionID)
        guard planRecords[key] == nil else { return .duplicate }
        planRecords[key] = record
        let isCurrent = claim.submissionID == record.submissionID
        if isCurrent, case .ready(let planJSON) = record.outcome {
            claim.wizardPlan = planJSON
            claimsByID[claim.id] = claim
        }
        return .stored(isCurrent: isCurrent)
    }

    /// The recorded outcome of one submission, or nil.
    public func planRecord(sessionToken: String, submissionID: String) async throws -> PlanRecord? {
        planRecords[PlanKey(sessionToken: sessionToken, submissionID: submissionID)]
    }

    /// Keeps an unattributable payload in ``deadLetters``.
    public func storeDeadLetter(channel: String, payload: [UInt8], reason: String, receivedAt: Date) async throws {
        deadLetters.append(DeadLetter(channel: channel, payload: payload, reason: reason, receivedAt: receivedAt))
    }

    private func newestFirst(_ claims: [Claim], limit: Int) -> [Claim] {
        Array(claims.sorted { ($0.updatedAt, $0.id) > ($1.updatedAt, $1.id) }.prefix(max(0, limit)))
    }
}
