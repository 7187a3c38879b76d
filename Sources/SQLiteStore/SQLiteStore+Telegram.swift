import AppCore
import Foundation

// MARK: - Telegram identity

extension SQLiteStore {
    /// Finds or creates the `telegram` account's user and upserts its `clpr_users_tg` row, in one
    /// `BEGIN IMMEDIATE` transaction.
    public func upsertTelegramUser(_ profile: TelegramProfile) async throws -> User {
        try await performTransaction("upsert telegram user") { connection in
            let user = try Self.findOrCreate(
                channel: .telegram, channelUserID: String(profile.id), phone: nil, connection)
            try connection.execute(
                """
                INSERT INTO clpr_users_tg (telegram_id, unified_id, first_name_tg, last_name_tg, username,
                    language_code, is_premium)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (telegram_id) DO UPDATE SET unified_id = excluded.unified_id,
                    first_name_tg = excluded.first_name_tg, last_name_tg = excluded.last_name_tg,
                    username = excluded.username, language_code = excluded.language_code,
                    is_premium = excluded.is_premium
                """,
                [
                    .integer(profile.id), .text(user.unifiedID), .nullableText(profile.firstName),
                    .nullableText(profile.lastName), .nullableText(profile.username),
                    .nullableText(profile.languageCode), .nullableInteger(profile.isPremium.map { $0 ? 1 : 0 }),
                ],
                operation: "upsert clpr_users_tg")
            return user
        }
    }

    /// Links the Telegram user to the verified phone, merging by the rule on ``PhoneLink`` (the web user's
    /// `unified_id` wins; accounts, claims, Telegram rows and sessions move; the merged user's row stays with
    /// `merged_into`), in one `BEGIN IMMEDIATE` transaction.
    public func linkTelegramPhone(telegramID: Int64, phone: String) async throws -> PhoneLink {
        try await linkTelegramPhone(telegramID: telegramID, phone: phone, enqueueing: [])
    }

    /// ``linkTelegramPhone(telegramID:phone:)`` plus `messages` enqueued in the same transaction.
    public func linkTelegramPhone(
        telegramID: Int64, phone: String, enqueueing messages: [OutboxMessage]
    ) async throws -> PhoneLink {
        try await performTransaction("link telegram phone") { connection in
            let telegramUser = try Self.findOrCreate(
                channel: .telegram, channelUserID: String(telegramID), phone: nil, connection)
            let webKey: [SQLValue] = [.text(Channel.webForm.rawValue), .text(phone)]
            let link: PhoneLink
            if let webUser = try Self.user(owning: webKey, connection) {
                if webUser.id == telegramUser.id {
                    link = PhoneLink(user: webUser, outcome: .alreadyLinked)
                } else {
                    let moved = try Self.merge(telegramUser, into: webUser, connection)
                    link = PhoneLink(user: webUser, outcome: .merged, movedClaims: moved)
                }
            } else {
                try connection.execute(
                    "INSERT INTO clpr_user_accounts (user_id, channel, channel_user_id) VALUES (?, ?, ?)",
                    [.integer(telegramUser.id)] + webKey, operation: "link web_form account")
                link = PhoneLink(user: telegramUser, outcome: .linked)
            }
            try connection.execute(
                "UPDATE clpr_users SET phone = ?, updated_at = ? WHERE id = ? AND phone IS NULL",
                [.text(phone), .date(Date()), .integer(link.user.id)], operation: "record phone")
            try connection.execute(
                """
                INSERT INTO clpr_users_tg (telegram_id, unified_id, phone_number) VALUES (?, ?, ?)
                ON CONFLICT (telegram_id) DO UPDATE SET unified_id = excluded.unified_id,
                    phone_number = excluded.phone_number
                """,
                [.integer(telegramID), .text(link.user.unifiedID), .text(phone)], operation: "record telegram phone")
            guard
                let user = try connection.queryFirst(
                    "SELECT id, unified_id, phone FROM clpr_users WHERE id = ?", [.integer(link.user.id)],
                    operation: "read linked user", Self.decodeUser)
            else { throw StoreError(.internalFailure, operation: "link telegram phone", detail: "user vanished") }
            try Self.insertOutbox(messages, now: Date(), connection)
            return PhoneLink(user: user, outcome: link.outcome, movedClaims: link.movedClaims)
        }
    }

    /// Moves everything of `source` to `target` and marks `source` merged; returns the claims moved.
    private static func merge(_ source: User, into target: User, _ connection: Connection) throws -> Int {
        try connection.execute(
            "UPDATE clpr_user_accounts SET user_id = ? WHERE user_id = ?", [.integer(target.id), .integer(source.id)],
            operation: "merge accounts")
        let moved = try connection.execute(
            "UPDATE clpr_claims SET unified_id = ?, user_id = ? WHERE unified_id = ?",
            [.text(target.unifiedID), .integer(target.id), .text(source.unifiedID)], operation: "merge claims")
        try connection.execute(
            "UPDATE clpr_users_tg SET unified_id = ? WHERE unified_id = ?",
            [.text(target.unifiedID), .text(source.unifiedID)], operation: "merge telegram rows")
        try connection.execute(
            "UPDATE clpr_sessions SET unified_id = ?, user_id = ? WHERE unified_id = ?",
            [.text(target.unifiedID), .integer(target.id), .text(source.unifiedID)], operation: "merge sessions")
        try connection.execute(
            "UPDATE clpr_users SET merged_into = ?, updated_at = ? WHERE id = ?",
            [.text(target.unifiedID), .date(Date()), .integer(source.id)], operation: "mark merged user")
        return moved
    }
}
