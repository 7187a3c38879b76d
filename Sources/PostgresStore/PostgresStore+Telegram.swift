import AppCore
import FoundationEssentials

// MARK: - Telegram identity

extension PostgresStore {
    /// Finds or creates the `telegram` account's user (race-free, see
    /// ``findOrCreateUser(channel:channelUserID:phone:)``) and upserts its `clpr_users_tg` row
    /// (`INSERT … ON CONFLICT (telegram_id) DO UPDATE`), in one transaction.
    public func upsertTelegramUser(_ profile: TelegramProfile) async throws -> User {
        try await withTransaction("upsert telegram user") { connection in
            let user = try Self.findOrCreate(
                channel: .telegram, channelUserID: String(profile.id), phone: nil, connection)
            try connection.execute(
                """
                INSERT INTO clpr_users_tg (telegram_id, unified_id, first_name_tg, last_name_tg, username,
                    language_code, is_premium)
                VALUES ($1, $2, $3, $4, $5, $6, $7::boolean)
                ON CONFLICT (telegram_id) DO UPDATE SET unified_id = excluded.unified_id,
                    first_name_tg = excluded.first_name_tg, last_name_tg = excluded.last_name_tg,
                    username = excluded.username, language_code = excluded.language_code,
                    is_premium = excluded.is_premium
                """,
                [
                    .integer(profile.id), .text(user.unifiedID), .text(profile.firstName), .text(profile.lastName),
                    .text(profile.username), .text(profile.languageCode),
                    .text(profile.isPremium.map { $0 ? "true" : "false" }),
                ],
                operation: "upsert clpr_users_tg")
            return user
        }
    }

    /// Links the Telegram user to the verified phone, merging by the rule on ``PhoneLink`` (the web user's
    /// `unified_id` wins; accounts, claims, Telegram rows and sessions move; the merged user's row stays with
    /// `merged_into`), in one transaction. The phone's `web_form` account is claimed with
    /// `ON CONFLICT DO NOTHING` (a concurrent first phone login makes it wait, then lose or win cleanly), and both
    /// user rows are locked in id order before a merge, so two merges cannot deadlock.
    public func linkTelegramPhone(telegramID: Int64, phone: String) async throws -> PhoneLink {
        try await linkTelegramPhone(telegramID: telegramID, phone: phone, enqueueing: [])
    }

    /// ``linkTelegramPhone(telegramID:phone:)`` plus `messages` enqueued in the same transaction.
    public func linkTelegramPhone(
        telegramID: Int64, phone: String, enqueueing messages: [OutboxMessage]
    ) async throws -> PhoneLink {
        try await withTransaction("link telegram phone") { connection in
            let telegramUser = try Self.findOrCreate(
                channel: .telegram, channelUserID: String(telegramID), phone: nil, connection)
            let webKey: [PostgresValue] = [.text(Channel.webForm.rawValue), .text(phone)]
            let claimed = try connection.queryFirst(
                """
                INSERT INTO clpr_user_accounts (user_id, channel, channel_user_id) VALUES ($3, $1, $2)
                ON CONFLICT (channel, channel_user_id) DO NOTHING RETURNING user_id
                """,
                webKey + [.integer(telegramUser.id)], operation: "link web_form account"
            ) { row in row.int64(0) }
            let link: PhoneLink
            if claimed != nil {
                link = PhoneLink(user: telegramUser, outcome: .linked)
            } else {
                guard let webUser = try Self.user(owning: webKey, connection) else {
                    throw StoreError(.internalFailure, operation: "link telegram phone", detail: "account vanished")
                }
                if webUser.id == telegramUser.id {
                    link = PhoneLink(user: webUser, outcome: .alreadyLinked)
                } else {
                    let moved = try Self.merge(telegramUser, into: webUser, connection)
                    link = PhoneLink(user: webUser, outcome: .merged, movedClaims: moved)
                }
            }
            try connection.execute(
                "UPDATE clpr_users SET phone = $1, updated_at = now() WHERE id = $2 AND phone IS NULL",
                [.text(phone), .integer(link.user.id)], operation: "record phone")
            try connection.execute(
                """
                INSERT INTO clpr_users_tg (telegram_id, unified_id, phone_number) VALUES ($1, $2, $3)
                ON CONFLICT (telegram_id) DO UPDATE SET unified_id = excluded.unified_id,
                    phone_number = excluded.phone_number
                """,
                [.integer(telegramID), .text(link.user.unifiedID), .text(phone)], operation: "record telegram phone")
            guard
                let user = try connection.queryFirst(
                    "SELECT id, unified_id, phone FROM clpr_users WHERE id = $1", [.integer(link.user.id)],
                    operation: "read linked user", Self.decodeUser)
            else { throw StoreError(.internalFailure, operation: "link telegram phone", detail: "user vanished") }
            try Self.insertOutbox(messages, now: Date(), connection)
            return PhoneLink(user: user, outcome: link.outcome, movedClaims: link.movedClaims)
        }
    }

    /// Moves everything of `source` to `target` and marks `source` merged; returns the claims moved.
    private static func merge(_ source: User, into target: User, _ connection: PostgresConnection) throws -> Int {
        _ = try connection.query(
            "SELECT id FROM clpr_users WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
            [.arrayLiteral([String(source.id), String(target.id)])], operation: "lock merged users"
        ) { row in row.int64(0) }
        try connection.execute(
            "UPDATE clpr_user_accounts SET user_id = $1 WHERE user_id = $2",
            [.integer(target.id), .integer(source.id)], operation: "merge accounts")
        let moved = try connection.execute(
            "UPDATE clpr_claims SET unified_id = $1, user_id = $2 WHERE unified_id = $3",
            [.text(target.unifiedID), .integer(target.id), .text(source.unifiedID)], operation: "merge claims")
        try connection.execute(
            "UPDATE clpr_users_tg SET unified_id = $1 WHERE unified_id = $2",
            [.text(target.unifiedID), .text(source.unifiedID)], operation: "merge telegram rows")
        try connection.execute(
            "UPDATE clpr_sessions SET unified_id = $1, user_id = $2 WHERE unified_id = $3",
            [.text(target.unifiedID), .integer(target.id), .text(source.unifiedID)], operation: "merge sessions")
        try connection.execute(
            "UPDATE clpr_users SET merged_into = $1, updated_at = now() WHERE id = $2",
            [.text(target.unifiedID), .integer(source.id)], operation: "mark merged user")
        return moved
    }
}
