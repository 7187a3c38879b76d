import AppCore
import AppTesting
import Foundation
import PostgresStore
import Testing

/// What only the PostgreSQL adapter can show: schema, migrations, query plans, the stored JSON shape, row counts
/// under concurrency, lost connections.
@Suite(.enabled(if: TestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
struct PostgresStoreTests {
    static let tables: Set<String> = [
        "clpr_schema_migrations", "clpr_users", "clpr_user_accounts", "clpr_claims", "clpr_users_tg",
        "clpr_claim_documents", "clpr_documents", "clpr_sessions", "clpr_login_codes", "clpr_claim_plans",
        "clpr_plan_dead_letters", "clpr_rate_limits", "clpr_server_keys",
    ]

    @Test func connectionsInUseCountsBorrowedConnections() async throws {
        try await withPostgresStore { store, _ in
            #expect(store.connectionsInUse == 0)
            let slow = Task { try await store.execute(script: "SELECT pg_sleep(0.5)") }
            #expect(await eventually(timeout: .seconds(2), every: .milliseconds(5)) { store.connectionsInUse == 1 })
            try await slow.value
            #expect(store.connectionsInUse == 0)
        }
    }

    @Test func migrationsAreIdempotent() async throws {
        try await withPostgresStore { store, database in
            let before = try await store.inspect("SELECT version, name, applied_at::text FROM clpr_schema_migrations")
            try await offPool { try store.migrate() }
            // A second process (another store on the same database) finds everything applied.
            let again = try await database.openStore(poolSize: 1)
            defer { again.close() }
            try await offPool { try again.migrate() }
            let after = try await store.inspect("SELECT version, name, applied_at::text FROM clpr_schema_migrations")
            #expect(after == before)
            #expect(
                try await store.inspect("SELECT version, name FROM clpr_schema_migrations ORDER BY version") == [
                    ["1", "seed_tables"], ["2", "clpr_sessions_codes_plans"],
                    ["3", "normalize_legacy_web_form_phones"], ["4", "outbox_callbacks_crm"],
                    ["5", "telegram_identity"], ["6", "server_keys"], ["7", "claim_documents"],
                    ["8", "outbox_depth_indexes"],
                ])
            let tables = try await store.inspect(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            #expect(Set(tables.compactMap { $0[0] }).isSuperset(of: Self.tables))
            let indexes = try await store.inspect(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname")
            let names = Set(indexes.compactMap { $0[0] })
            #expect(
                names.isSuperset(of: [
                    "clpr_claims_unified_status_updated", "clpr_users_unified_id_key", "clpr_claims_session_token_key",
                    "clpr_outbox_pending_created", "clpr_outbox_dead_created",
                ]), "\(names)")
            // The seed table declares UNIQUE (channel, channel_user_id) itself: no second index is added.
            #expect(!names.contains("clpr_user_accounts_channel_user_key"))
        }
    }

    /// 100 parallel first logins with one phone: exactly one user row and one account row.
    @Test func parallelFirstLoginsWriteOneRowEach() async throws {
        try await withPostgresStore(poolSize: 8) { store, _ in
            let user = try await StoreContract(store: store).parallelFindOrCreateUserYieldsOneUser()
            #expect(try await store.inspect("SELECT count(*) FROM clpr_users") == [["1"]])
            #expect(
                try await store.inspect("SELECT user_id, channel, channel_user_id FROM clpr_user_accounts")
                    == [[String(user.id), "web_form", "+79991112233"]])
            let row = try await store.inspect("SELECT universal_id::text, phone, unified_id FROM clpr_users")
            #expect(row.first?[1] == "+79991112233")
            #expect(UUID(uuidString: row.first?[0] ?? "") != nil)
            #expect(row.first?[2] == user.unifiedID)
        }
    }

    @Test func draftLookupUsesTheIndex() async throws {
        try await withPostgresStore { store, _ in
            // Enough rows (100 people with 200 claims each) that the planner prefers the ordered index scan itself.
            try await store.execute(
                script: """
                    INSERT INTO clpr_claims (id, session_token, unified_id, channel, status_code, payload, created_at,
                        updated_at)
                    SELECT gen_random_uuid(), 'tok_' || n, 'usr_' || (n % 100), 'web_form',
                        CASE WHEN n % 3 = 0 THEN 'in_work' ELSE 'draft' END, '{}'::jsonb, now(),
                        now() - n * interval '1 second'
                    FROM generate_series(1, 20000) AS n;
                    ANALYZE clpr_claims;
                    """)
            let plan = try await store.inspect(
                """
                EXPLAIN SELECT id FROM clpr_claims
                WHERE unified_id = $1 AND status_code = 'draft' ORDER BY updated_at DESC LIMIT $2
                """,
                [.text("usr_7"), .int(20)]
            ).compactMap { $0[0] }.joined(separator: "\n")
            #expect(plan.contains("clpr_claims_unified_status_updated"), "\(plan)")
            #expect(!plan.contains("Sort"), "the index serves the ORDER BY: \(plan)")
            #expect(!plan.contains("Seq Scan"), "\(plan)")
        }
    }

    /// `payload` is jsonb with the seed's keys; `wizard_plan` is an object; nothing of a SQL-looking value leaks.
    @Test func payloadKeepsTheSeedShape() async throws {
        try await withPostgresStore { store, _ in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
            var claim = makeClaim(for: user, answers: ["q1": "'; DROP TABLE clpr_claims; --"])
            claim.wizardPlan = #"{"steps":[],"version":1}"#
            try await store.insertClaim(claim)
            let rows = try await store.inspect(
                """
                SELECT jsonb_typeof(payload -> 'wizard_plan'), jsonb_typeof(payload -> 'documents_meta'),
                    payload ->> 'claim_id', payload ->> 'phone', payload -> 'answers' ->> 'q1',
                    (SELECT string_agg(key, ',' ORDER BY key) FROM jsonb_object_keys(payload) AS key),
                    payload -> 'status_history' -> 0 ->> 'at', unified_id, user_id::text,
                    pg_typeof(payload)::text, to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS')
                FROM clpr_claims WHERE id = $1
                """,
                [.text(claim.id)])
            #expect(
                rows == [
                    [
                        "object", "array", claim.id, "+79990000001", "'; DROP TABLE clpr_claims; --",
                        "answers,claim_id,documents_meta,phone,status_history,wizard_plan",
                        "2026-12-03T14:05:09.123Z", user.unifiedID, String(user.id), "jsonb", "2026-12-03T14:05:09.123",
                    ]
                ])
        }
    }

    /// Rows written by older tools (no clpr columns, extra payload keys, `timestamp` text) read, and survive an
    /// update with their unknown keys.
    @Test func legacyRowsReadAndKeepUnknownPayloadKeys() async throws {
        try await withPostgresStore { store, _ in
            let id = UUID().uuidString.lowercased()
            try await store.inspect(
                """
                INSERT INTO clpr_claims (id, session_token, channel, status_code, payload, created_at, updated_at)
                VALUES ($1, 'tok-legacy', 'web_form', 'draft', $2::jsonb, '2025-01-02 03:04:05+00',
                    '2025-01-02 03:04:05.5+00')
                """,
                [
                    .text(id),
                    .text(#"{"phone":"8 999 000-00-09","claim_id":"x","answers":{"n":5},"crm":{"contact_id":17}}"#),
                ])
            let legacy = try #require(try await store.claim(id: id))
            #expect(legacy.unifiedID == "")
            #expect(legacy.phone == "8 999 000-00-09")
            #expect(legacy.answers == ["n": "5"])
            #expect(legacy.createdAt == Date(timeIntervalSince1970: 1_735_787_045))
            #expect(legacy.updatedAt == Date(timeIntervalSince1970: 1_735_787_045.5))

            _ = try await store.updateClaim(id: id) { $0.unifiedID = "usr_backfilled" }
            #expect(
                try await store.inspect(
                    "SELECT payload -> 'crm' ->> 'contact_id', unified_id FROM clpr_claims WHERE id = $1", [.text(id)])
                    == [["17", "usr_backfilled"]])
        }
    }

    @Test func deadLettersKeepRawBytes() async throws {
        try await withPostgresStore { store, _ in
            try await store.storeDeadLetter(
                channel: "claim:plan:x", payload: [0, 1, 255], reason: "no such token", receivedAt: testDate())
            #expect(
                try await store.inspect("SELECT channel, payload::text, reason FROM clpr_plan_dead_letters")
                    == [["claim:plan:x", "\\x0001ff", "no such token"]])
        }
    }

    @Test func constraintViolationsAreConflictsWithoutSQLInDescription() async throws {
        try await withPostgresStore { store, _ in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
            let claim = makeClaim(for: user)
            try await store.insertClaim(claim)
            do {
                try await store.insertClaim(claim)
                Issue.record("duplicate insert succeeded")
            } catch let error as StoreError {
                #expect(error.code == .conflict)
                #expect(!error.description.contains("INSERT"))
                #expect(error.debugDescription.contains("SQLSTATE 23505"))
                #expect(error.debugDescription.contains("INSERT INTO clpr_claims"))
                #expect(!error.debugDescription.contains(claim.sessionToken), "parameter values stay out of logs")
            }
        }
    }

    /// Backends killed under the store (as a server restart or failover would) are replaced, not fatal.
    @Test func lostConnectionsAreReplaced() async throws {
        try await withPostgresStore(poolSize: 2) { store, database in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
            // Prepared on the sessions about to die: after the reset they must be prepared again, not reused.
            for _ in 0..<2 { #expect(try await store.user(unifiedID: user.unifiedID) == user) }
            let killed = try await database.admin.inspect(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = $1 AND pid <> pg_backend_pid()
                """,
                [.text(database.name)])
            #expect(scalar(killed).flatMap(Int.init) ?? 0 >= 1)
            // Give the server a moment to close the sockets, then every call works again.
            try await Task.sleep(for: .milliseconds(200))
            for _ in 0..<6 {
                #expect(try await store.user(unifiedID: user.unifiedID) == user)
            }
        }
    }

    /// A statement is parsed and planned once per connection: the second call reuses what the first prepared.
    @Test func statementsArePreparedOncePerConnection() async throws {
        try await withPostgresStore(poolSize: 1) { store, _ in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000002", phone: nil)
            let count = "SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql"
            #expect(try await store.user(unifiedID: user.unifiedID) == user)
            let afterFirst = scalar(try await store.inspect(count)).flatMap(Int.init) ?? 0
            #expect(try await store.user(unifiedID: user.unifiedID) == user)
            #expect(try await store.user(unifiedID: "usr_nobody") == nil)
            let afterMore = scalar(try await store.inspect(count)).flatMap(Int.init) ?? 0
            #expect(afterFirst >= 3)  // at least the login's statements, the lookup and the count itself
            #expect(afterMore == afterFirst)  // every statement was reused, none prepared again

            // Statements the server lost behind the connection's back (a pooler, `DEALLOCATE`) are prepared again,
            // outside a transaction at once, inside one after it ends: no call fails twice.
            try await store.execute(script: "DEALLOCATE ALL")
            #expect(try await store.user(unifiedID: user.unifiedID) == user)
            @Sendable func probe(_ connection: PostgresConnection) throws -> [[String?]] {
                try connection.query(
                    "SELECT count(*) FROM clpr_users WHERE unified_id = $1", [.text(user.unifiedID)], operation: "probe"
                ) { $0.values }
            }
            #expect(try await store.withConnection("probe", probe) == [["1"]])
            try await store.execute(script: "DEALLOCATE ALL")
            await #expect(throws: StoreError.self) { try await store.withTransaction("probe", probe) }
            #expect(try await store.withConnection("probe", probe) == [["1"]])
            #expect(try await store.withTransaction("probe", probe) == [["1"]])
        }
    }

    @Test func unreachableServerIsUnavailable() async throws {
        let configuration = PostgresStore.Configuration(
            endpoint: .tcp(host: "127.0.0.1", port: 1), user: "nobody", password: "secret-password",
            connectTimeout: .seconds(2))
        do {
            let store = try await offPool { try PostgresStore(configuration: configuration) }
            store.close()
            Issue.record("connected to port 1")
        } catch let error as StoreError {
            #expect(error.code == .unavailable)
            #expect(!String(reflecting: error).contains("secret-password"))
        }
    }

    @Test func closedStoreIsUnavailable() async throws {
        try await TestDatabase.with { database in
            let store = try await database.openStore()
            try await offPool { try store.migrate() }
            _ = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
            store.close()
            store.close()
            await expectStoreError(.unavailable) { _ = try await store.claim(sessionToken: "x") }
        }
    }
}
