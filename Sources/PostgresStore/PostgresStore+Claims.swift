import AppCore
import FoundationEssentials
import StoreCodec

// MARK: - ClaimStore

extension PostgresStore {
    /// Inserts a new claim row; `payload` (`jsonb`) is built from the claim (seed keys plus `status_history`).
    /// - Throws: ``StoreError/Code/conflict`` if the id or the session token is taken.
    public func insertClaim(_ claim: Claim) async throws {
        let payload = try ClaimPayload.encode(claim)
        try await withConnection("insert claim") { connection in
            try Self.insert(claim, payload: payload, connection)
        }
    }

    /// ``insertClaim(_:)`` plus `messages` enqueued in the same transaction.
    public func insertClaim(_ claim: Claim, enqueueing messages: [OutboxMessage]) async throws {
        let payload = try ClaimPayload.encode(claim)
        try await withTransaction("insert claim") { connection in
            try Self.insert(claim, payload: payload, connection)
            try Self.insertOutbox(messages, now: Date(), connection)
        }
    }

    private static func insert(_ claim: Claim, payload: String, _ connection: PostgresConnection) throws {
        try connection.execute(
            """
            INSERT INTO clpr_claims (\(Self.claimColumns))
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16, $17, $18)
            """,
            [.text(claim.id)] + Self.mutableValues(of: claim, payload: payload), operation: "insert claim")
    }

    /// The claim with `id`, or nil (also for an id that is not a UUID: `clpr_claims.id` is `uuid`).
    public func claim(id: String) async throws -> Claim? {
        guard Self.isUUID(id) else { return nil }
        return try await withConnection("get claim") { connection in
            try Self.loadClaim(where: "id = $1", .text(id), connection)?.claim
        }
    }

    /// The claim of the wizard session `sessionToken`, or nil.
    public func claim(sessionToken: String) async throws -> Claim? {
        try await withConnection("get claim by session") { connection in
            // `<> ''` repeats the partial index's predicate, so that a generic (cached) plan can use the index.
            try Self.loadClaim(where: "session_token = $1 AND session_token <> ''", .text(sessionToken), connection)?
                .claim
        }
    }

    public func planStreamClaim(sessionToken: String) async throws -> PlanStreamClaim? {
        try await withConnection("get plan stream claim") { connection in
            try connection.queryFirst(
                """
                SELECT unified_id, expires_at, submission_id, submitted_at, revision, submitted_revision
                FROM clpr_claims WHERE session_token = $1 AND session_token <> ''
                """,
                [.text(sessionToken)], operation: "get plan stream claim"
            ) { row in
                PlanStreamClaim(
                    unifiedID: row.text(0) ?? "", expiresAt: try row.date(1, "expires_at"), submissionID: row.text(2),
                    submittedAt: try row.date(3, "submitted_at"), revision: row.int(4) ?? 0,
                    submittedRevision: row.int(5))
            }
        }
    }

    /// Loads the claim `FOR UPDATE`, changes it and writes it back, in one transaction: concurrent updates of one
    /// claim run one after the other. The claim's `id` cannot change; payload keys clpr does not know are kept.
    /// - Returns: the claim as written.
    /// - Throws: ``StoreError/Code/notFound`` if there is no such claim; whatever `change` throws, unchanged
    ///   (nothing is written).
    public func updateClaim(id: String, _ change: @escaping @Sendable (inout Claim) throws -> Void) async throws
        -> Claim
    {
        try await updateClaim(id: id) { (claim: inout Claim) -> [OutboxMessage] in
            try change(&claim)
            return []
        }
    }

    /// ``updateClaim(id:_:)`` plus the outgoing calls `change` returns, enqueued in the same transaction.
    public func updateClaim(
        id: String, enqueueing change: @escaping @Sendable (inout Claim) throws -> [OutboxMessage]
    ) async throws -> Claim {
        guard Self.isUUID(id) else { throw StoreError(.notFound, operation: "update claim") }
        return try await withTransaction("update claim") { connection in
            guard
                let (stored, payload) = try Self.loadClaim(
                    where: "id = $1 FOR UPDATE", .text(id), connection)
            else {
                throw StoreError(.notFound, operation: "update claim")
            }
            var claim = stored
            let messages = try change(&claim)
            claim.id = stored.id
            let newPayload = try ClaimPayload.encode(claim, keepingUnknownKeysOf: payload)
            try connection.execute(
                """
                UPDATE clpr_claims SET session_token = $1, unified_id = $2, telegram_id = $3, channel = $4,
                    user_id = $5, type_code = $6, status_code = $7, policy_number = $8, payload = $9::jsonb,
                    is_confirmed = $10, created_at = $11, updated_at = $12, expires_at = $13, revision = $14,
                    submission_id = $15, submitted_revision = $16, submitted_at = $17
                WHERE id = $18
                """,
                Self.mutableValues(of: claim, payload: newPayload) + [.text(stored.id)], operation: "update claim")
            try Self.insertOutbox(messages, now: Date(), connection)
            return claim
        }
    }

    /// Drafts of a person by `unified_id` over every channel, newest change first: the seed's step-4 lookup,
    /// served by the `(unified_id, status_code, updated_at DESC)` index.
    public func drafts(unifiedID: String, limit: Int) async throws -> [Claim] {
        try await withConnection("list drafts") { connection in
            try connection.query(
                """
                SELECT \(Self.claimColumns) FROM clpr_claims
                WHERE unified_id = $1 AND status_code = 'draft' ORDER BY updated_at DESC LIMIT $2
                """,
                [.text(unifiedID), .int(max(0, limit))], operation: "list drafts"
            ) { try Self.decodeClaim($0).claim }
        }
    }

    /// Every claim of a person by `unified_id`, any status, newest change first.
    public func claims(unifiedID: String, limit: Int) async throws -> [Claim] {
        try await withConnection("list claims") { connection in
            try connection.query(
                """
                SELECT \(Self.claimColumns) FROM clpr_claims
                WHERE unified_id = $1 ORDER BY updated_at DESC LIMIT $2
                """,
                [.text(unifiedID), .int(max(0, limit))], operation: "list claims"
            ) { try Self.decodeClaim($0).claim }
        }
    }

    // MARK: Plans

    /// Records a submission's outcome once, in one statement that locks the claim row (so it cannot race an
    /// update of the claim's submission): ``PlanStoreResult/unknownToken`` when no claim has the token,
    /// ``PlanStoreResult/duplicate`` when already recorded. When the record is the claim's current submission and
    /// a plan, the plan also becomes `payload.wizard_plan` (`updated_at` is untouched).
    public func storePlanRecord(_ record: PlanRecord) async throws -> PlanStoreResult {
        // One statement is atomic by itself: no BEGIN and COMMIT round trips.
        try await withConnection("store plan record") { connection in try Self.store(record, on: connection) }
    }

    public func storePlanRecords(_ records: [PlanRecord]) async throws -> [PlanStoreResult] {
        // A batch of one is one statement, atomic without a transaction around it.
        if records.count == 1 { return [try await storePlanRecord(records[0])] }
        return try await withTransaction("store plan records") { connection in
            try records.map { try Self.store($0, on: connection) }
        }
    }

    /// Locks the token's claim (`<> ''` repeats the partial index's predicate, so that the prepared statement's
    /// generic plan can use the index), inserts the record unless it names another claim or is already there, and makes
    /// an inserted current plan the claim's `wizard_plan`: one round trip instead of three (the round trips and
    /// their parsing were most of PostgreSQL's CPU per plan).
    static let storePlanRecordSQL = """
        WITH target AS (
            SELECT id, submission_id FROM clpr_claims
            WHERE session_token = $1 AND session_token <> '' FOR UPDATE
        ), inserted AS (
            INSERT INTO clpr_claim_plans
                (session_token, submission_id, outcome, plan, error_code, error_message, received_at)
            SELECT $1, $2, $3, $4::jsonb, $5, $6, $7 FROM target
            WHERE $8::text IS NULL OR target.id::text = $8::text
            ON CONFLICT (session_token, submission_id) DO NOTHING
            RETURNING 1
        ), planned AS (
            UPDATE clpr_claims AS claim
            SET payload = jsonb_set(COALESCE(claim.payload, '{}'::jsonb), '{wizard_plan}', $4::jsonb)
            FROM target
            WHERE claim.id = target.id AND target.submission_id = $2 AND $3 = 'ready'
                AND EXISTS (SELECT 1 FROM inserted)
            RETURNING 1
        )
        SELECT target.id::text, target.submission_id, (SELECT count(*) FROM inserted) FROM target
        """

    private static func store(_ record: PlanRecord, on connection: PostgresConnection) throws -> PlanStoreResult {
        var values: [PostgresValue] = [.text(record.sessionToken), .text(record.submissionID)]
        switch record.outcome {
        case .ready(let planJSON):
            values += [.text("ready"), .text(planJSON), .null, .null]
        case .failed(let code, let message):
            values += [.text("failed"), .null, .text(code), .text(message)]
        }
        values += [.date(record.receivedAt), record.claimID.map(PostgresValue.text) ?? .null]
        let outcome = try connection.queryFirst(storePlanRecordSQL, values, operation: "store plan record") { row in
            (id: try row.requiredText(0, "id"), submissionID: row.text(1), inserted: row.int(2) ?? 0)
        }
        guard let outcome else { return .unknownToken }
        if let claimID = record.claimID, claimID != outcome.id { return .claimMismatch }
        guard outcome.inserted > 0 else { return .duplicate }
        return .stored(isCurrent: outcome.submissionID == record.submissionID)
    }

    /// The recorded outcome of one submission, or nil. A plan comes back as canonical JSON text.
    public func planRecord(sessionToken: String, submissionID: String) async throws -> PlanRecord? {
        try await withConnection("get plan record") { connection in
            try connection.queryFirst(
                """
                SELECT outcome, plan, error_code, error_message, received_at FROM clpr_claim_plans
                WHERE session_token = $1 AND submission_id = $2
                """,
                [.text(sessionToken), .text(submissionID)], operation: "get plan record"
            ) { row in
                let outcome: PlanRecord.Outcome
                switch row.text(0) {
                case "ready":
                    let plan = try row.requiredText(1, "plan")
                    outcome = .ready(planJSON: try ClaimPayload.canonical(plan, operation: "get plan record"))
                case "failed":
                    outcome = .failed(code: row.text(2) ?? "", message: row.text(3) ?? "")
                default:
                    throw row.corrupt("unknown outcome")
                }
                return PlanRecord(
                    sessionToken: sessionToken, submissionID: submissionID, outcome: outcome,
                    receivedAt: try row.requiredDate(4, "received_at"))
            }
        }
    }

    /// Keeps an unattributable or unparsable plan message (raw bytes, `bytea`) for inspection.
    public func storeDeadLetter(channel: String, payload: [UInt8], reason: String, receivedAt: Date) async throws {
        try await withConnection("store dead letter") { connection in
            try connection.execute(
                """
                INSERT INTO clpr_plan_dead_letters (channel, payload, reason, received_at)
                VALUES ($1, $2::bytea, $3, $4)
                """,
                [.text(channel), .bytes(payload), .text(reason), .date(receivedAt)], operation: "store dead letter")
        }
    }

    // MARK: Row mapping

    /// Every `clpr_claims` column the store reads and writes, in ``decodeClaim(_:)``'s order.
    static let claimColumns = """
        id, session_token, unified_id, telegram_id, channel, user_id, type_code, status_code, policy_number, \
        payload, is_confirmed, created_at, updated_at, expires_at, revision, submission_id, submitted_revision, \
        submitted_at
        """

    /// Values for every column of ``claimColumns`` after `id`, in order.
    private static func mutableValues(of claim: Claim, payload: String) -> [PostgresValue] {
        [
            .text(claim.sessionToken), .text(claim.unifiedID), .integer(claim.telegramID),
            .text(claim.channel.rawValue), .integer(claim.userID), .text(claim.typeCode), .text(claim.status.rawValue),
            .text(claim.policyNumber), .text(payload), .bool(claim.isConfirmed), .date(claim.createdAt),
            .date(claim.updatedAt), .date(claim.expiresAt), .int(claim.revision), .text(claim.submissionID),
            .int(claim.submittedRevision), .date(claim.submittedAt),
        ]
    }

    /// Whether `text` can be a `uuid` (anything else cannot name a claim).
    private static func isUUID(_ text: String) -> Bool { UUID(uuidString: text) != nil }

    /// The one claim matching `condition` (a constant SQL fragment with `$1`), with its raw payload text.
    static func loadClaim(
        where condition: StaticString, _ value: PostgresValue, _ connection: PostgresConnection
    ) throws -> (claim: Claim, payload: String?)? {
        try connection.queryFirst(
            "SELECT \(claimColumns) FROM clpr_claims WHERE \(condition)", [value], operation: "get claim",
            decodeClaim)
    }

    /// Decodes a row of ``claimColumns``. Legacy rows written before clpr may lack `unified_id`, `user_id` or
    /// `session_token`; those read as empty / 0, and a missing channel as `web_form`.
    private static func decodeClaim(_ row: PostgresRow) throws -> (claim: Claim, payload: String?) {
        let payloadText = row.text(9)
        let payload = try ClaimPayload.decode(payloadText, operation: "decode claim", allowingOffset: true)
        let channel = row.text(4) == nil ? .webForm : try Self.channel(row, 4)
        var claim = Claim(
            id: try row.requiredText(0, "id"), sessionToken: row.text(1) ?? "", unifiedID: row.text(2) ?? "",
            userID: row.int64(5) ?? 0, telegramID: row.int64(3), channel: channel, typeCode: row.text(6) ?? "",
            status: ClaimStatus(rawValue: row.text(7) ?? ""), policyNumber: row.text(8), phone: payload.phone,
            answers: payload.answers, wizardPlan: payload.wizardPlan, documentsMeta: payload.documentsMeta,
            isConfirmed: row.bool(10) ?? false, revision: row.int(14) ?? 0, submissionID: row.text(15),
            submittedRevision: row.int(16), submittedAt: try row.date(17, "submitted_at"),
            statusHistory: payload.statusHistory, createdAt: try row.requiredDate(11, "created_at"),
            updatedAt: try row.requiredDate(12, "updated_at"), expiresAt: try row.date(13, "expires_at"))
        claim.wizardStep = payload.wizardStep
        claim.consent = payload.consent
        claim.telegramNotice = payload.telegramNotice
        return (claim, payloadText)
    }
}
