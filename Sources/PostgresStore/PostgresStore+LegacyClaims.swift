import AppCore
import FoundationEssentials

// MARK: - LegacyClaimStore

extension PostgresStore: LegacyClaimStore {
    /// Claims with a NULL or blank `unified_id`, by `id` (keyset pagination on the primary key).
    public func claimsMissingUnifiedID(after: String?, limit: Int) async throws -> [LegacyClaim] {
        try await withConnection("list claims missing unified_id") { connection in
            try connection.query(
                """
                SELECT id::text, channel, CASE WHEN jsonb_typeof(payload) = 'object' THEN payload->>'phone' END
                FROM clpr_claims
                WHERE (unified_id IS NULL OR btrim(unified_id) = '') AND ($1::uuid IS NULL OR id > $1::uuid)
                ORDER BY id LIMIT $2
                """,
                [.text(after), .int(max(0, limit))], operation: "list claims missing unified_id"
            ) { row in
                LegacyClaim(id: try row.requiredText(0, "id"), channel: row.text(1), phone: row.text(2))
            }
        }
    }

    /// The owner of `(channel, channelUserID)`, or nil.
    public func existingUser(channel: Channel, channelUserID: String) async throws -> User? {
        try await withConnection("find user") { connection in
            try connection.queryFirst(
                """
                SELECT u.id, u.unified_id, u.phone FROM clpr_user_accounts ua JOIN clpr_users u ON u.id = ua.user_id
                WHERE ua.channel = $1 AND ua.channel_user_id = $2
                """,
                [.text(channel.rawValue), .text(channelUserID)], operation: "find user"
            ) { row in
                guard let id = row.int64(0) else { throw row.corrupt("clpr_users.id is NULL") }
                return User(id: id, unifiedID: try row.requiredText(1, "unified_id"), phone: row.text(2))
            }
        }
    }

    /// One `UPDATE … FROM unnest(…)` in one transaction; rows whose `unified_id` is set meanwhile are skipped.
    public func assignUnifiedIDs(_ assignments: [UnifiedIDAssignment]) async throws -> Int {
        guard !assignments.isEmpty else { return 0 }
        let ids = PostgresValue.arrayLiteral(assignments.map(\.claimID))
        let unifiedIDs = PostgresValue.arrayLiteral(assignments.map(\.user.unifiedID))
        let userIDs = PostgresValue.arrayLiteral(assignments.map { String($0.user.id) })
        let phones = PostgresValue.arrayLiteral(assignments.map(\.phone))
        return try await withTransaction("assign unified_id") { connection in
            try connection.execute(
                """
                UPDATE clpr_claims AS c
                SET unified_id = v.unified_id, user_id = v.user_id,
                    payload = COALESCE(c.payload, '{}'::jsonb) || jsonb_build_object('phone', v.phone)
                        || CASE WHEN c.payload ? 'phone' AND c.payload->>'phone' IS DISTINCT FROM v.phone
                            THEN jsonb_build_object('legacy_phone', c.payload->'phone') ELSE '{}'::jsonb END
                FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[]) AS v(id, unified_id, user_id, phone)
                WHERE c.id = v.id AND (c.unified_id IS NULL OR btrim(c.unified_id) = '')
                """,
                [ids, unifiedIDs, userIDs, phones], operation: "assign unified_id")
        }
    }
}
