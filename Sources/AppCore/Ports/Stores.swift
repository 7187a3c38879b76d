import FoundationEssentials

/// Failures a store reports in domain terms. Adapter-specific detail goes in `debugDescription` only.
public struct StoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case notFound, conflict, unavailable, corrupt, internalFailure }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The row does not exist.
        public static let notFound = Code(.notFound)
        /// A uniqueness or revision conflict.
        public static let conflict = Code(.conflict)
        /// The database cannot be reached or is busy; worth retrying later.
        public static let unavailable = Code(.unavailable)
        /// Stored data could not be decoded.
        public static let corrupt = Code(.corrupt)
        public static let internalFailure = Code(.internalFailure)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What was being done (`insert claim`), safe to show in logs.
    public var operation: String
    /// Adapter detail (SQL, driver message); for logs only, never for responses.
    public var detail: String
    public var file: String
    public var line: Int

    public init(_ code: Code, operation: String, detail: String = "", file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.detail = detail
        self.file = file
        self.line = line
    }

    public var description: String { "StoreError(\(code), \(operation))" }
    public var debugDescription: String { "StoreError(\(code), \(operation), \(detail)) at \(file):\(line)" }
}

/// People, their channel accounts, login codes and sessions.
public protocol IdentityStore: Sendable {
    /// Finds the user owning `(channel, channelUserID)` or creates user + account, race-free: concurrent calls
    /// with the same pair all return the same user. `phone` (E.164) is recorded on a new user.
    func findOrCreateUser(channel: Channel, channelUserID: String, phone: String?) async throws -> User
    /// The user with this `unified_id` (`SELECT … FROM clpr_users WHERE unified_id = ?`), or nil.
    func user(unifiedID: String) async throws -> User?
    /// The Telegram user id of the person's `telegram` account (in a private chat with the bot, the chat id), or
    /// nil when the person never used Telegram.
    func telegramID(unifiedID: String) async throws -> Int64?

    /// Finds or creates the user of the `telegram` account `profile.id` (race-free, as
    /// ``findOrCreateUser(channel:channelUserID:phone:)``) and upserts the person's `clpr_users_tg` row (names,
    /// username, language, premium; `unified_id` set to the account's user), in one transaction.
    func upsertTelegramUser(_ profile: TelegramProfile) async throws -> User
    /// Links the Telegram user `telegramID` to the verified `phone` (E.164) so that both channels lead to one
    /// `unified_id`, merging two users by the rule documented on ``PhoneLink``, in one transaction. Creates the
    /// Telegram user when it has none yet; records the phone on `clpr_users_tg.phone_number`.
    func linkTelegramPhone(telegramID: Int64, phone: String) async throws -> PhoneLink

    /// Replaces any code for the phone with `code`.
    func saveLoginCode(_ code: LoginCode) async throws
    func loginCode(phone: String) async throws -> LoginCode?
    /// Atomically counts one wrong try; returns the new count (nil if no code).
    func recordFailedLoginAttempt(phone: String) async throws -> Int?
    func deleteLoginCode(phone: String) async throws
    /// Deletes the phone's code only if it is still the one with `codeHash`; true for exactly one caller when
    /// several present the same right code at once (a code signs in once).
    func consumeLoginCode(phone: String, codeHash: String) async throws -> Bool

    /// Counts one event in `bucket`'s fixed window (a new window starts when the current one is `window` old), in
    /// one atomic statement, so every instance shares the count.
    /// - Returns: the events counted in the current window, this one included, and when the window started.
    func countRateEvent(bucket: String, window: Duration, now: Date) async throws -> RateCount
    /// Takes back one event of `bucket` (one that turned out not to count, such as a code that was never sent).
    func uncountRateEvent(bucket: String) async throws

    func createSession(_ session: Session) async throws
    func session(tokenHash: String) async throws -> Session?
    /// Moves the expiry (sliding sessions).
    func renewSession(tokenHash: String, expiresAt: Date) async throws
    func deleteSession(tokenHash: String) async throws
    /// Removes every session of the person (sign out everywhere); returns how many there were.
    func deleteSessions(unifiedID: String) async throws -> Int
}

/// Claims (drafts and beyond) and the plans received for them.
public protocol ClaimStore: Sendable {
    func insertClaim(_ claim: Claim) async throws
    func claim(id: String) async throws -> Claim?
    func claim(sessionToken: String) async throws -> Claim?
    /// What a plan stream needs of the claim behind `sessionToken`, read without decoding its payload (every
    /// stream opening asks); nil if there is no such claim. A row whose payload or other columns could not be
    /// decoded still answers here: the stream checks only the columns it reads.
    func planStreamClaim(sessionToken: String) async throws -> PlanStreamClaim?

    /// Loads the claim, lets `change` modify it, and writes it back atomically (no other update of that claim
    /// runs in between). `change` throws to abort without writing. `updated_at` is the caller's to set.
    /// - Throws: ``StoreError/Code/notFound`` if there is no such claim, or what `change` throws.
    func updateClaim(id: String, _ change: @escaping @Sendable (inout Claim) throws -> Void) async throws -> Claim

    /// Drafts of a person by `unified_id`, every channel, newest change first.
    func drafts(unifiedID: String, limit: Int) async throws -> [Claim]
    /// Every claim of a person by `unified_id`, newest change first.
    func claims(unifiedID: String, limit: Int) async throws -> [Claim]

    /// Records a submission's outcome once per (token, submission id). When it is the claim's current
    /// submission and a plan, it also becomes `payload.wizard_plan`.
    func storePlanRecord(_ record: PlanRecord) async throws -> PlanStoreResult
    /// ``storePlanRecord(_:)`` for several records in one transaction, in order (a record may repeat an earlier
    /// one of the batch: it is then a `.duplicate`). The results are in the records' order. If it throws, none
    /// of the batch was stored.
    func storePlanRecords(_ records: [PlanRecord]) async throws -> [PlanStoreResult]
    /// The recorded outcome for one submission, if any.
    func planRecord(sessionToken: String, submissionID: String) async throws -> PlanRecord?
    /// Keeps a payload that could not be attributed or parsed, for inspection.
    func storeDeadLetter(channel: String, payload: [UInt8], reason: String, receivedAt: Date) async throws
}

extension ClaimStore {
    /// From the whole claim; stores that can read less implement it themselves.
    public func planStreamClaim(sessionToken: String) async throws -> PlanStreamClaim? {
        try await claim(sessionToken: sessionToken).map(PlanStreamClaim.init)
    }

    /// One transaction per record; stores that can do better implement it themselves.
    public func storePlanRecords(_ records: [PlanRecord]) async throws -> [PlanStoreResult] {
        var results: [PlanStoreResult] = []
        results.reserveCapacity(records.count)
        for record in records { results.append(try await storePlanRecord(record)) }
        return results
    }
}
