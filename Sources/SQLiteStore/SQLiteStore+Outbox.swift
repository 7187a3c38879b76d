import AppCore
import Foundation

// MARK: - OutboxStore

extension SQLiteStore: OutboxStore {
    static let outboxColumns = """
        id, kind, dedupe_key, body, state, attempts, created_at_ms, next_attempt_ms, last_error, finished_at_ms
        """

    /// Writes `messages`, due at `now` (see ``OutboxMessage`` for a repeated key).
    public func enqueue(_ messages: [OutboxMessage], now: Date) async throws {
        guard !messages.isEmpty else { return }
        try await performTransaction("enqueue outbox") { connection in
            try Self.insertOutbox(messages, now: now, connection)
        }
    }

    /// The insert shared by ``enqueue(_:now:)``, ``updateClaim(id:enqueueing:)`` and
    /// ``linkTelegramPhone(telegramID:phone:enqueueing:)``; runs in the caller's transaction.
    static func insertOutbox(_ messages: [OutboxMessage], now: Date, _ connection: Connection) throws {
        let nowMS = Int64(milliseconds: now)
        for message in messages {
            let onConflict =
                message.resendWhenFinished
                ? """
                DO UPDATE SET state = 'pending', attempts = 0, body = excluded.body,
                    created_at_ms = excluded.created_at_ms, next_attempt_ms = excluded.next_attempt_ms,
                    last_error = NULL, finished_at_ms = NULL, lease_owner = NULL, lease_until_ms = NULL
                WHERE clpr_outbox.state <> 'pending'
                """ : "DO NOTHING"
            try connection.execute(
                """
                INSERT INTO clpr_outbox (kind, dedupe_key, body, state, attempts, created_at_ms, next_attempt_ms)
                VALUES (?, ?, ?, 'pending', 0, ?, ?)
                ON CONFLICT (kind, dedupe_key) \(onConflict)
                """,
                [
                    .text(message.kind.rawValue), .text(message.key), .text(message.body), .integer(nowMS),
                    .integer(nowMS),
                ], operation: "enqueue outbox")
        }
    }

    /// Leases due items in one `BEGIN IMMEDIATE` transaction (SQLite has one writer at a time, so two leases
    /// never overlap).
    public func leaseOutboxItems(
        kind: OutboxKind, now: Date, limit: Int, leaseUntil: Date, owner: String
    ) async throws -> [OutboxItem] {
        try await performTransaction("lease outbox") { connection in
            let nowMS = Int64(milliseconds: now)
            return try connection.query(
                """
                UPDATE clpr_outbox SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM clpr_outbox
                    WHERE state = 'pending' AND kind = ? AND next_attempt_ms <= ?
                        AND (lease_until_ms IS NULL OR lease_until_ms < ?)
                    ORDER BY next_attempt_ms LIMIT ?)
                RETURNING \(Self.outboxColumns)
                """,
                [
                    .text(owner), .integer(Int64(milliseconds: leaseUntil)), .text(kind.rawValue), .integer(nowMS),
                    .integer(nowMS), .int(max(0, limit)),
                ], operation: "lease outbox", Self.decodeOutboxItem)
        }
    }

    @discardableResult
    public func completeOutboxItem(id: Int64, owner: String, _ completion: OutboxCompletion) async throws -> Bool {
        let (state, next, error, finished) = Self.completionValues(completion)
        return try await perform("complete outbox item") { connection in
            try connection.execute(
                """
                UPDATE clpr_outbox SET state = ?, next_attempt_ms = COALESCE(?, next_attempt_ms), last_error = ?,
                    finished_at_ms = ?, lease_owner = NULL, lease_until_ms = NULL
                WHERE id = ? AND lease_owner = ?
                """,
                [
                    .text(state), .nullableInteger(next), .nullableText(error), .nullableInteger(finished),
                    .integer(id),
                    .text(owner),
                ], operation: "complete outbox item") > 0
        }
    }

    /// `(state, next_attempt_ms, last_error, finished_at_ms)` for a completion.
    static func completionValues(_ completion: OutboxCompletion) -> (String, Int64?, String?, Int64?) {
        switch completion {
        case .sent(let at): ("sent", nil, nil, Int64(milliseconds: at))
        case .retry(let at, let error): ("pending", Int64(milliseconds: at), error, nil)
        case .dead(let at, let error): ("dead", nil, error, Int64(milliseconds: at))
        }
    }

    public func outboxItems(states: [OutboxState], limit: Int) async throws -> [OutboxItem] {
        try await perform("list outbox") { connection in
            var items: [OutboxItem] = []
            for state in states {
                items += try connection.query(
                    "SELECT \(Self.outboxColumns) FROM clpr_outbox WHERE state = ? ORDER BY id DESC LIMIT ?",
                    [.text(state.rawValue), .int(max(0, limit))], operation: "list outbox", Self.decodeOutboxItem)
            }
            return Array(items.sorted { $0.id > $1.id }.prefix(max(0, limit)))
        }
    }

    public func outboxDepth() async throws -> OutboxDepth {
        // Each count reads one partial index (migration 8): the sent rows are never visited.
        try await performRead("outbox depth") { connection in
            let row = try connection.queryFirst(
                """
                SELECT (SELECT count(*) FROM clpr_outbox WHERE state = 'pending'),
                       (SELECT count(*) FROM clpr_outbox WHERE state = 'dead'),
                       (SELECT min(created_at_ms) FROM clpr_outbox WHERE state = 'pending')
                """, [], operation: "outbox depth"
            ) { row in
                OutboxDepth(
                    pending: row.int(0) ?? 0, dead: row.int(1) ?? 0,
                    oldestPendingCreatedAt: row.int64(2).map(Date.init(milliseconds:)))
            }
            return row ?? OutboxDepth(pending: 0, dead: 0, oldestPendingCreatedAt: nil)
        }
    }

    static func decodeOutboxItem(_ row: Row) throws -> OutboxItem {
        guard let state = OutboxState(rawValue: try row.requiredText(4, "state")),
            let id = row.int64(0), let created = row.int64(6), let next = row.int64(7)
        else { throw row.corrupt("outbox row") }
        return OutboxItem(
            id: id, kind: OutboxKind(rawValue: try row.requiredText(1, "kind")),
            key: try row.requiredText(2, "dedupe_key"), body: try row.requiredText(3, "body"), state: state,
            attempts: row.int(5) ?? 0, createdAt: Date(milliseconds: created), nextAttemptAt: Date(milliseconds: next),
            lastError: row.text(8), finishedAt: row.int64(9).map(Date.init(milliseconds:)))
    }

    // MARK: Callback signatures and CRM contacts

    public func rememberCallbackSignature(
        _ signature: String, receivedAt: Date, forgetBefore: Date
    ) async throws -> Bool {
        try await performTransaction("remember callback signature") { connection in
            try connection.execute(
                "DELETE FROM clpr_callback_signatures WHERE received_at_ms < ?",
                [.integer(Int64(milliseconds: forgetBefore))], operation: "remember callback signature")
            return try connection.execute(
                """
                INSERT INTO clpr_callback_signatures (signature, received_at_ms) VALUES (?, ?)
                ON CONFLICT (signature) DO NOTHING
                """,
                [.text(signature), .integer(Int64(milliseconds: receivedAt))],
                operation: "remember callback signature") > 0
        }
    }

    public func setCRMContactID(_ contactID: String, phone: String) async throws {
        try await perform("set crm contact") { connection in
            _ = try connection.execute(
                "UPDATE clpr_users SET crm_contact_id = ? WHERE phone = ?", [.text(contactID), .text(phone)],
                operation: "set crm contact")
        }
    }

    public func crmContactID(unifiedID: String) async throws -> String? {
        try await perform("get crm contact") { connection in
            try connection.queryFirst(
                "SELECT crm_contact_id FROM clpr_users WHERE unified_id = ?", [.text(unifiedID)],
                operation: "get crm contact"
            ) { $0.text(0) } ?? nil
        }
    }
}

extension Int64 {
    /// Unix milliseconds of `date`.
    init(milliseconds date: Date) { self = Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}

extension Date {
    /// The date `milliseconds` after the Unix epoch.
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
