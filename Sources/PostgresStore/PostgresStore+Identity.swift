import AppCore
import FoundationEssentials

// MARK: - IdentityStore

extension PostgresStore {
    /// Finds the user owning `(channel, channelUserID)` or creates user and account, race-free, in one
    /// transaction: look up; if absent, insert user + account in one statement whose account insert is
    /// `ON CONFLICT (channel, channel_user_id) DO NOTHING` inside a savepoint. A concurrent creator makes that
    /// insert wait for it and then do nothing; the savepoint is rolled back (no orphan user is left) and the
    /// winner's user is read again. Never check-then-insert. A new user gets `unified_id` = `usr_` + a random
    /// UUID and a random `universal_id`; `phone` is recorded only on a new user.
    public func findOrCreateUser(channel: Channel, channelUserID: String, phone: String?) async throws -> User {
        try await withTransaction("find or create user") { connection in
            try Self.findOrCreate(channel: channel, channelUserID: channelUserID, phone: phone, connection)
        }
    }

    /// ``findOrCreateUser(channel:channelUserID:phone:)`` inside the caller's transaction.
    static func findOrCreate(
        channel: Channel, channelUserID: String, phone: String?, _ connection: PostgresConnection
    ) throws -> User {
        let key: [PostgresValue] = [.text(channel.rawValue), .text(channelUserID)]
        if let user = try Self.user(owning: key, connection) { return user }

        try connection.execute(script: "SAVEPOINT create_user", operation: "find or create user")
        let created = try connection.queryFirst(
            """
            WITH new_user AS (
                INSERT INTO clpr_users (universal_id, unified_id, phone, created_at, updated_at)
                VALUES (gen_random_uuid(), 'usr_' || gen_random_uuid()::text, $3, now(), now())
                RETURNING id, unified_id, phone
            ), account AS (
                INSERT INTO clpr_user_accounts (user_id, channel, channel_user_id)
                SELECT id, $1, $2 FROM new_user
                ON CONFLICT (channel, channel_user_id) DO NOTHING
                RETURNING user_id
            )
            SELECT new_user.id, new_user.unified_id, new_user.phone FROM new_user JOIN account ON account.user_id = new_user.id
            """,
            key + [.text(phone)], operation: "create user", Self.decodeUser)
        if let created {
            try connection.execute(script: "RELEASE SAVEPOINT create_user", operation: "find or create user")
            return created
        }
        // Someone else created the account meanwhile: drop our user row and take theirs.
        try connection.execute(script: "ROLLBACK TO SAVEPOINT create_user", operation: "find or create user")
        guard let user = try Self.user(owning: key, connection) else {
            throw StoreError(.internalFailure, operation: "find or create user", detail: "account vanished")
        }
        return user
    }

    /// The user with this `unified_id`, or nil.
    public func user(unifiedID: String) async throws -> User? {
        try await withConnection("get user") { connection in
            try connection.queryFirst(
                "SELECT id, unified_id, phone FROM clpr_users WHERE unified_id = $1", [.text(unifiedID)],
                operation: "get user", Self.decodeUser)
        }
    }

    public func telegramID(unifiedID: String) async throws -> Int64? {
        try await withConnection("get telegram id") { connection in
            try connection.queryFirst(
                """
                SELECT ua.channel_user_id FROM clpr_user_accounts ua JOIN clpr_users u ON u.id = ua.user_id
                WHERE u.unified_id = $1 AND ua.channel = 'telegram' ORDER BY ua.channel_user_id LIMIT 1
                """, [.text(unifiedID)], operation: "get telegram id"
            ) { row in row.text(0).flatMap { Int64($0) } }
        }.flatMap { $0 }
    }

    static func decodeUser(_ row: PostgresRow) throws -> User {
        guard let id = row.int64(0) else { throw row.corrupt("clpr_users.id is NULL") }
        return User(id: id, unifiedID: try row.requiredText(1, "unified_id"), phone: row.text(2))
    }

    static func user(owning key: [PostgresValue], _ connection: PostgresConnection) throws -> User? {
        try connection.queryFirst(
            """
            SELECT u.id, u.unified_id, u.phone FROM clpr_user_accounts ua JOIN clpr_users u ON u.id = ua.user_id
            WHERE ua.channel = $1 AND ua.channel_user_id = $2
            """,
            key, operation: "find user", decodeUser)
    }

    // MARK: Login codes

    /// Stores `code` for its phone, replacing any previous code (and its attempt count) in one upsert.
    public func saveLoginCode(_ code: LoginCode) async throws {
        try await withConnection("save login code") { connection in
            try connection.execute(
                """
                INSERT INTO clpr_login_codes (phone, code_hash, created_at, expires_at, failed_attempts)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at,
                    expires_at = excluded.expires_at, failed_attempts = excluded.failed_attempts
                """,
                [
                    .text(code.phone), .text(code.codeHash), .date(code.createdAt), .date(code.expiresAt),
                    .int(code.failedAttempts),
                ],
                operation: "save login code")
        }
    }

    /// The stored code for `phone`, expired or not (expiry is the caller's check).
    public func loginCode(phone: String) async throws -> LoginCode? {
        try await withConnection("get login code") { connection in
            try connection.queryFirst(
                """
                SELECT phone, code_hash, created_at, expires_at, failed_attempts FROM clpr_login_codes
                WHERE phone = $1
                """,
                [.text(phone)], operation: "get login code"
            ) { row in
                LoginCode(
                    phone: try row.requiredText(0, "phone"), codeHash: try row.requiredText(1, "code_hash"),
                    createdAt: try row.requiredDate(2, "created_at"), expiresAt: try row.requiredDate(3, "expires_at"),
                    failedAttempts: row.int(4) ?? 0)
            }
        }
    }

    /// Adds one wrong try in a single `UPDATE … RETURNING` (the row lock serialises concurrent tries); nil when
    /// there is no code for `phone`.
    public func recordFailedLoginAttempt(phone: String) async throws -> Int? {
        try await withConnection("record failed login attempt") { connection in
            try connection.queryFirst(
                """
                UPDATE clpr_login_codes SET failed_attempts = failed_attempts + 1 WHERE phone = $1
                RETURNING failed_attempts
                """,
                [.text(phone)], operation: "record failed login attempt"
            ) { row in row.int(0) ?? 0 }
        }
    }

    /// Removes the code for `phone`; a no-op when there is none.
    public func deleteLoginCode(phone: String) async throws {
        try await withConnection("delete login code") { connection in
            try connection.execute(
                "DELETE FROM clpr_login_codes WHERE phone = $1", [.text(phone)], operation: "delete login code")
        }
    }

    /// Deletes the phone's code if it still has `codeHash`; true when this call deleted it (the row lock makes
    /// concurrent callers wait, and they then delete nothing).
    public func consumeLoginCode(phone: String, codeHash: String) async throws -> Bool {
        try await withConnection("consume login code") { connection in
            try connection.execute(
                "DELETE FROM clpr_login_codes WHERE phone = $1 AND code_hash = $2", [.text(phone), .text(codeHash)],
                operation: "consume login code") == 1
        }
    }

    // MARK: Rate limits

    /// Counts one event in one `INSERT … ON CONFLICT DO UPDATE … RETURNING` (the row lock serialises concurrent
    /// counts; the SET expressions see the old row); now and then drops buckets whose window is over.
    public func countRateEvent(bucket: String, window: Duration, now: Date) async throws -> RateCount {
        let windowOpenedAfter = PostgresValue.date(now.adding(.zero - window))
        return try await withConnection("count rate event") { connection in
            if Int.random(in: 0..<100) == 0 {
                try connection.execute(
                    "DELETE FROM clpr_rate_limits WHERE window_start <= $1", [windowOpenedAfter],
                    operation: "expire rate limits")
            }
            let counted = try connection.queryFirst(
                """
                INSERT INTO clpr_rate_limits (bucket, window_start, count) VALUES ($1, $2, 1)
                ON CONFLICT (bucket) DO UPDATE SET
                    count = CASE WHEN clpr_rate_limits.window_start <= $3 THEN 1 ELSE clpr_rate_limits.count + 1 END,
                    window_start = CASE WHEN clpr_rate_limits.window_start <= $3 THEN excluded.window_start
                        ELSE clpr_rate_limits.window_start END
                RETURNING count, window_start
                """,
                [.text(bucket), .date(now), windowOpenedAfter], operation: "count rate event"
            ) { row in RateCount(count: row.int(0) ?? 0, windowStart: try row.requiredDate(1, "window_start")) }
            guard let counted else {
                throw StoreError(.internalFailure, operation: "count rate event", detail: "no row returned")
            }
            return counted
        }
    }

    public func uncountRateEvent(bucket: String) async throws {
        try await withConnection("uncount rate event") { connection in
            _ = try connection.execute(
                "UPDATE clpr_rate_limits SET count = count - 1 WHERE bucket = $1 AND count > 0", [.text(bucket)],
                operation: "uncount rate event")
        }
    }

    // MARK: Sessions

    /// Stores a new session.
    /// - Throws: ``StoreError/Code/conflict`` if a session with the same token hash exists.
    public func createSession(_ session: Session) async throws {
        try await withConnection("create session") { connection in
            try connection.execute(
                """
                INSERT INTO clpr_sessions (token_hash, user_id, unified_id, channel, created_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                """,
                [
                    .text(session.tokenHash), .integer(session.userID), .text(session.unifiedID),
                    .text(session.channel.rawValue), .date(session.createdAt), .date(session.expiresAt),
                ],
                operation: "create session")
        }
    }

    /// The session with `tokenHash`, expired or not (expiry is the caller's check); nil when absent.
    public func session(tokenHash: String) async throws -> Session? {
        try await withConnection("get session") { connection in
            try connection.queryFirst(
                """
                SELECT token_hash, user_id, unified_id, channel, created_at, expires_at FROM clpr_sessions
                WHERE token_hash = $1
                """,
                [.text(tokenHash)], operation: "get session"
            ) { row in
                guard let userID = row.int64(1) else { throw row.corrupt("user_id is NULL") }
                return Session(
                    tokenHash: try row.requiredText(0, "token_hash"), userID: userID,
                    unifiedID: try row.requiredText(2, "unified_id"), channel: try Self.channel(row, 3),
                    createdAt: try row.requiredDate(4, "created_at"), expiresAt: try row.requiredDate(5, "expires_at"))
            }
        }
    }

    /// Moves the session's expiry; a no-op when the session is gone (for example, signed out meanwhile).
    public func renewSession(tokenHash: String, expiresAt: Date) async throws {
        try await withConnection("renew session") { connection in
            try connection.execute(
                "UPDATE clpr_sessions SET expires_at = $1 WHERE token_hash = $2", [.date(expiresAt), .text(tokenHash)],
                operation: "renew session")
        }
    }

    /// Removes the session; a no-op when there is none.
    public func deleteSession(tokenHash: String) async throws {
        try await withConnection("delete session") { connection in
            try connection.execute(
                "DELETE FROM clpr_sessions WHERE token_hash = $1", [.text(tokenHash)], operation: "delete session")
        }
    }

    /// Removes every session of the person; returns how many there were.
    public func deleteSessions(unifiedID: String) async throws -> Int {
        try await withConnection("delete sessions") { connection in
            try connection.execute(
                "DELETE FROM clpr_sessions WHERE unified_id = $1", [.text(unifiedID)], operation: "delete sessions")
        }
    }

    // MARK: Row helpers

    static func channel(_ row: PostgresRow, _ column: Int) throws -> Channel {
        guard let channel = row.text(column).flatMap(Channel.init(rawValue:)) else {
            throw row.corrupt("unknown channel")
        }
        return channel
    }
}
