import AppCore
import Foundation
import StoreCodec
import Synchronization

// MARK: - ClaimStore

extension SQLiteStore {
    /// Inserts a new claim row; `payload` is built from the claim (seed keys plus `status_history`).
    /// - Throws: ``StoreError/Code/conflict`` if the id or the session token is taken.
    public func insertClaim(_ claim: Claim) async throws {
        try await perform("insert claim") { connection in try Self.insert(claim, connection) }
    }

    /// ``insertClaim(_:)`` plus `messages` enqueued in the same transaction.
    public func insertClaim(_ claim: Claim, enqueueing messages: [OutboxMessage]) async throws {
        try await performTransaction("insert claim") { connection in
            try Self.insert(claim, connection)
            try Self.insertOutbox(messages, now: Date(), connection)
        }
    }

    private static func insert(_ claim: Claim, _ connection: Connection) throws {
        try connection.execute(
            """
            INSERT INTO clpr_claims (\(Self.claimColumns))
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(claim.id)] + (try Self.mutableValues(of: claim, payload: ClaimPayload.encode(claim))),
            operation: "insert claim")
    }

    /// The claim with `id`, or nil.
    public func claim(id: String) async throws -> Claim? {
        try await perform("get claim") { connection in
            try Self.loadClaim(where: "id = ?", .text(id), connection)?.claim
        }
    }

    /// The claim of the wizard session `sessionToken`, or nil.
    public func claim(sessionToken: String) async throws -> Claim? {
        try await performRead("get claim by session") { connection in
            try Self.loadClaim(where: "session_token = ?", .text(sessionToken), connection)?.claim
        }
    }

    public func planStreamClaim(sessionToken: String) async throws -> PlanStreamClaim? {
        try await performRead("get plan stream claim") { connection in
            try connection.queryFirst(
                """
                SELECT unified_id, expires_at, submission_id, submitted_at, revision, submitted_revision
                FROM clpr_claims WHERE session_token = ?
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

    /// Loads, changes and writes back the claim in one `BEGIN IMMEDIATE` transaction. The claim's `id` cannot
    /// change; payload keys clpr does not know are kept.
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
        try await performTransaction("update claim") { connection in
            guard let (stored, payload) = try Self.loadClaim(where: "id = ?", .text(id), connection) else {
                throw StoreError(.notFound, operation: "update claim")
            }
            var claim = stored
            let messages = try change(&claim)
            claim.id = id
            let newPayload = try ClaimPayload.encode(claim, keepingUnknownKeysOf: payload)
            try connection.execute(
                """
                UPDATE clpr_claims SET session_token = ?, unified_id = ?, telegram_id = ?, channel = ?,
                    user_id = ?, type_code = ?, status_code = ?, policy_number = ?, payload = ?, is_confirmed = ?,
                    created_at = ?, updated_at = ?, expires_at = ?, revision = ?, submission_id = ?,
                    submitted_revision = ?, submitted_at = ?
                WHERE id = ?
                """,
                Self.mutableValues(of: claim, payload: newPayload) + [.text(id)], operation: "update claim")
            try Self.insertOutbox(messages, now: Date(), connection)
            return claim
        }
    }

    /// Drafts of a person by `unified_id` over every channel, newest change first: the seed's step-4 lookup,
    /// served by the `(unified_id, status_code, updated_at DESC)` index.
    public func drafts(unifiedID: String, limit: Int) async throws -> [Claim] {
        try await perform("list drafts") { connection in
            try connection.query(
                """
                SELECT \(Self.claimColumns) FROM clpr_claims
                WHERE unified_id = ? AND status_code = 'draft' ORDER BY updated_at DESC LIMIT ?
                """,
                [.text(unifiedID), .int(max(0, limit))], operation: "list drafts"
            ) { try Self.decodeClaim($0).claim }
        }
    }

    /// Every claim of a person by `unified_id`, any status, newest change first.
    public func claims(unifiedID: String, limit: Int) async throws -> [Claim] {
        try await perform("list claims") { connection in
            try connection.query(
                """
                SELECT \(Self.claimColumns) FROM clpr_claims
                WHERE unified_id = ? ORDER BY updated_at DESC LIMIT ?
                """,
                [.text(unifiedID), .int(max(0, limit))], operation: "list claims"
            ) { try Self.decodeClaim($0).claim }
        }
    }

    // MARK: Plans

    /// Records a submission's outcome once, in one transaction: ``PlanStoreResult/unknownToken`` when no claim
    /// has the token, ``PlanStoreResult/duplicate`` when already recorded. When the record is the claim's
    /// current submission and a plan, the plan also becomes `payload.wizard_plan` (`updated_at` is untouched).
    public func storePlanRecord(_ record: PlanRecord) async throws -> PlanStoreResult {
        try await performTransaction("store plan record") { connection in try Self.store(record, on: connection) }
    }

    public func storePlanRecords(_ records: [PlanRecord]) async throws -> [PlanStoreResult] {
        try await performTransaction("store plan records") { connection in
            try records.map { try Self.store($0, on: connection) }
        }
    }

    private static func store(_ record: PlanRecord, on connection: Connection) throws -> PlanStoreResult {
        let target = try connection.queryFirst(
            "SELECT id, submission_id FROM clpr_claims WHERE session_token = ?",
            [.text(record.sessionToken)], operation: "store plan record"
        ) { row in (id: try row.requiredText(0, "id"), submissionID: row.text(1)) }
        guard let target else { return .unknownToken }
        if let claimID = record.claimID, claimID != target.id { return .claimMismatch }

        var values: [SQLValue] = [.text(record.sessionToken), .text(record.submissionID)]
        switch record.outcome {
        case .ready(let planJSON):
            values += [.text("ready"), .text(planJSON), .null, .null]
        case .failed(let code, let message):
            values += [.text("failed"), .null, .text(code), .text(message)]
        }
        let inserted = try connection.execute(
            """
            INSERT INTO clpr_claim_plans
                (session_token, submission_id, outcome, plan, error_code, error_message, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (session_token, submission_id) DO NOTHING
            """,
            values + [.date(record.receivedAt)], operation: "store plan record")
        guard inserted > 0 else { return .duplicate }

        let isCurrent = target.submissionID == record.submissionID
        if isCurrent, case .ready(let planJSON) = record.outcome {
            // SQLite's JSON functions splice the plan in without decoding and re-encoding the whole payload in
            // Swift (which was most of the intake's cost per plan).
            try connection.execute(
                """
                UPDATE clpr_claims SET payload = json_set(COALESCE(payload, '{}'), '$.wizard_plan', json(?))
                WHERE id = ?
                """,
                [.text(planJSON), .text(target.id)], operation: "store plan record")
        }
        return .stored(isCurrent: isCurrent)
    }

    /// The recorded outcome of one submission, or nil.
    public func planRecord(sessionToken: String, submissionID: String) async throws -> PlanRecord? {
        try await performRead("get plan record") { connection in
            try connection.queryFirst(
                """
                SELECT outcome, plan, error_code, error_message, received_at FROM clpr_claim_plans
                WHERE session_token = ? AND submission_id = ?
                """,
                [.text(sessionToken), .text(submissionID)], operation: "get plan record"
            ) { row in
                let outcome: PlanRecord.Outcome
                switch row.text(0) {
                case "ready":
                    outcome = .ready(planJSON: try row.requiredText(1, "plan"))
                case "failed":
                    outcome = .failed(code: row.text(2) ?? "", message: row.text(3) ?? "")
                default:
                    throw row.corrupt("unknown outcome")
                }
                return PlanRecord(
                    sessionToken: sessionToken, submissionID: submissionID, outcome: outcome,
                    receivedAt: try Self.requiredDate(row, 4, "received_at"))
            }
        }
    }

    /// Keeps an unattributable or unparsable plan message (raw bytes) for inspection.
    public func storeDeadLetter(channel: String, payload: [UInt8], reason: String, receivedAt: Date) async throws {
        try await perform("store dead letter") { connection in
            try connection.execute(
                "INSERT INTO clpr_plan_dead_letters (channel, payload, reason, received_at) VALUES (?, ?, ?, ?)",
                [.text(channel), .blob(payload), .text(reason), .date(receivedAt)], operation: "store dead letter")
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
    private static func mutableValues(of claim: Claim, payload: String) -> [SQLValue] {
        [
            .text(claim.sessionToken), .text(claim.unifiedID), .nullableInteger(claim.telegramID),
            .text(claim.channel.rawValue), .integer(claim.userID), .text(claim.typeCode), .text(claim.status.rawValue),
            .nullableText(claim.policyNumber), .text(payload), .integer(claim.isConfirmed ? 1 : 0),
            .date(claim.createdAt), .date(claim.updatedAt), .date(claim.expiresAt), .int(claim.revision),
            .nullableText(claim.submissionID), .int(claim.submittedRevision), .date(claim.submittedAt),
        ]
    }

    /// The one claim matching `condition` (a constant SQL fragment with one `?`), with its raw payload text.
    static func loadClaim(
        where condition: StaticString, _ value: SQLValue, _ connection: Connection
    ) throws -> (claim: Claim, payload: String?)? {
        try connection.queryFirst(
            "SELECT \(claimColumns) FROM clpr_claims WHERE \(condition)", [value], operation: "get claim",
            decodeClaim)
    }

    /// Decodes a row of ``claimColumns``. Legacy rows written before clpr may lack `unified_id`, `user_id` or
    /// `session_token`; those read as empty / 0, and a missing channel as `web_form`.
    private static func decodeClaim(_ row: Row) throws -> (claim: Claim, payload: String?) {
        let payloadText = row.text(9)
        let payload = try ClaimPayload.decode(payloadText, operation: "decode claim", allowingOffset: false)
        let channel = try row.isNull(4) ? .webForm : Self.channel(row, 4)
        var claim = Claim(
            id: try row.requiredText(0, "id"), sessionToken: row.text(1) ?? "", unifiedID: row.text(2) ?? "",
            userID: row.int64(5) ?? 0, telegramID: row.int64(3), channel: channel, typeCode: row.text(6) ?? "",
            status: ClaimStatus(rawValue: row.text(7) ?? ""), policyNumber: row.text(8), phone: payload.phone,
            answers: payload.answers, wizardPlan: payload.wizardPlan, documentsMeta: payload.documentsMeta,
            isConfirmed: (row.int64(10) ?? 0) != 0, revision: row.int(14) ?? 0, submissionID: row.text(15),
            submittedRevision: row.int(16), submittedAt: try row.date(17, "submitted_at"),
            statusHistory: payload.statusHistory, createdAt: try requiredDate(row, 11, "created_at"),
            updatedAt: try requiredDate(row, 12, "updated_at"), expiresAt: try row.date(13, "expires_at"))
        claim.wizardStep = payload.wizardStep
        claim.consent = payload.consent
        claim.telegramNotice = payload.telegramNotice
        return (claim, payloadText)
    }
}
