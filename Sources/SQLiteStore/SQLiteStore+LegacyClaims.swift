import AppCore
import Foundation

// MARK: - LegacyClaimStore

extension SQLiteStore: LegacyClaimStore {
    /// Claims with a NULL or blank `unified_id`, by `id` (keyset pagination on the primary key).
    public func claimsMissingUnifiedID(after: String?, limit: Int) async throws -> [LegacyClaim] {
        try await perform("list claims missing unified_id") { connection in
            try connection.query(
                """
                SELECT id, channel,
                    CASE WHEN json_valid(payload) AND json_type(payload) = 'object'
                        THEN json_extract(payload, '$.phone') END
                FROM clpr_claims
                WHERE (unified_id IS NULL OR trim(unified_id) = '') AND (?1 IS NULL OR id > ?1)
                ORDER BY id LIMIT ?2
                """,
                [.nullableText(after), .int(max(0, limit))], operation: "list claims missing unified_id"
            ) { row in
                LegacyClaim(id: try row.requiredText(0, "id"), channel: row.text(1), phone: row.text(2))
            }
        }
    }

    /// The owner of `(channel, channelUserID)`, or nil.
    public func existingUser(channel: Channel, channelUserID: String) async throws -> User? {
        try await perform("find user") { connection in
            try connection.queryFirst(
                """
                SELECT u.id, u.unified_id, u.phone FROM clpr_user_accounts ua JOIN clpr_users u ON u.id = ua.user_id
                WHERE ua.channel = ? AND ua.channel_user_id = ?
                """,
                [.text(channel.rawValue), .text(channelUserID)], operation: "find user"
            ) { row in
                guard let id = row.int64(0) else { throw row.corrupt("clpr_users.id is NULL") }
                return User(id: id, unifiedID: try row.requiredText(1, "unified_id"), phone: row.text(2))
            }
        }
    }

    /// One `UPDATE` per claim, all in one `BEGIN IMMEDIATE` transaction; rows whose `unified_id` is set meanwhile
    /// are skipped.
    public func assignUnifiedIDs(_ assignments: [UnifiedIDAssignment]) async throws -> Int {
        guard !assignments.isEmpty else { return 0 }
        return try await performTransaction("assign unified_id") { connection in
            var changed = 0
            for assignment in assignments {
                changed += try connection.execute(
                    """
                    UPDATE clpr_claims
                    SET unified_id = ?1, user_id = ?2,
                        payload = CASE
                            WHEN json_type(payload, '$.phone') IS NOT NULL
                                AND json_extract(payload, '$.phone') IS NOT ?3
                            THEN json_set(payload, '$.phone', ?3, '$.legacy_phone', json_extract(payload, '$.phone'))
                            ELSE json_set(COALESCE(payload, '{}'), '$.phone', ?3) END
                    WHERE id = ?4 AND (unified_id IS NULL OR trim(unified_id) = '')
                    """,
                    [
                        .text(assignment.user.unifiedID), .integer(assignment.user.id), .text(assignment.phone),
                        .text(assignment.claimID),
                    ],
                    operation: "assign unified_id")
            }
            return changed
        }
    }
}
