import AppCore
import AppTesting
import Foundation
import PostgresStore
import Testing

/// `migrate` on a database the original system filled: its six tables as it had them (no clpr columns, no unique
/// `unified_id`, `timestamp` columns, phones as typed, web-form drafts with an empty `unified_id`).
@Suite(.enabled(if: TestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
struct LegacyDatabaseTests {
    static let originalSchema =
        LegacyDatabaseFixture.originalTables + """
            INSERT INTO clpr_users (id, universal_id, unified_id, phone) VALUES
                (1, gen_random_uuid(), 'usr_legacy_a', '8 916 123-45-67'),
                (2, gen_random_uuid(), '', '+7 916 765-43-21'),
                (3, NULL, NULL, 'not a phone'),
                (4, gen_random_uuid(), 'usr_legacy_d', '79161112233'),
                (5, gen_random_uuid(), 'usr_legacy_e', '8 (916) 111-22-33'),
                (6, gen_random_uuid(), 'usr_legacy_f', '+79165550000'),
                (7, gen_random_uuid(), 'usr_legacy_g', '8 916 555-00-00');
            SELECT setval('clpr_users_id_seq', 7);
            INSERT INTO clpr_user_accounts (user_id, channel, channel_user_id) VALUES
                (1, 'web_form', '8 916 123-45-67'),
                (1, 'telegram', '123456'),
                (2, 'web_form', '+7 916 765-43-21'),
                (3, 'web_form', 'not a phone'),
                (4, 'web_form', '79161112233'),
                (5, 'web_form', '8 (916) 111-22-33'),
                (6, 'web_form', '+79165550000'),
                (7, 'web_form', '8 916 555-00-00');
            INSERT INTO clpr_users_tg (telegram_id, unified_id, phone_number, first_name_tg)
                VALUES (123456, 'usr_legacy_a', '8 916 123-45-67', 'Иван');
            INSERT INTO clpr_claims (id, session_token, unified_id, channel, user_id, type_code, status_code, payload,
                is_confirmed, created_at, updated_at) VALUES
                ('00000000-0000-4000-8000-000000000001', 'sess-1', '', 'web_form', NULL, 'travel', 'draft',
                 '{"phone": "8 916 123-45-67", "claim_id": "00000000-0000-4000-8000-000000000001", "answers": {"trip_country": "Турция"}, "wizard_plan": null, "documents_meta": [], "crm": {"contact_id": 17}}',
                 false, '2025-01-02 03:04:05', '2025-01-02 03:04:05'),
                ('00000000-0000-4000-8000-000000000002', 'sess-2', '', 'web_form', NULL, 'osago', 'draft',
                 '{"phone": "+7 916 123-45-67", "answers": {}}', false, '2025-01-03 03:04:05', '2025-01-03 03:04:05'),
                ('00000000-0000-4000-8000-000000000003', 'sess-3', NULL, 'web_form', NULL, 'property', 'draft',
                 '{"phone": "79167654321"}', NULL, '2025-01-04 03:04:05', '2025-01-04 03:04:05'),
                ('00000000-0000-4000-8000-000000000004', '', '', 'web_form', NULL, 'travel', 'draft',
                 '{"answers": {}}', false, '2025-01-05 03:04:05', '2025-01-05 03:04:05'),
                ('00000000-0000-4000-8000-000000000005', '', 'usr_legacy_a', 'telegram', 1, 'travel', 'in_work',
                 '{"phone": "8 916 123-45-67"}', true, '2025-01-06 03:04:05', '2025-01-06 03:04:05');
            """

    /// Everything the original rows hold, as text, for before/after comparison.
    static let snapshotQueries = [
        "SELECT id, universal_id::text, created_at::text FROM clpr_users ORDER BY id",
        "SELECT id, user_id, channel FROM clpr_user_accounts ORDER BY id",
        "SELECT id::text, session_token, unified_id, channel, user_id, type_code, status_code, payload::text, "
            + "is_confirmed::text, created_at::text, updated_at::text FROM clpr_claims ORDER BY id",
        "SELECT * FROM clpr_users_tg",
    ]

    @Test func migrateKeepsTheOriginalRowsAndNormalizesWhatIsSafe() async throws {
        try await TestDatabase.with { database in
            let store = try await database.openStore()
            defer { store.close() }
            try await store.execute(script: Self.originalSchema)
            var before: [[[String?]]] = []
            for query in Self.snapshotQueries { before.append(try await store.inspect(query)) }

            try await offPool { try store.migrate() }

            var after: [[[String?]]] = []
            for query in Self.snapshotQueries { after.append(try await store.inspect(query)) }
            #expect(after == before, "no original row or value is lost or changed")

            // Users: blank unified_ids filled; typed phones normalized, the typed text kept.
            let users = try await store.inspect(
                "SELECT id, unified_id, phone, legacy_phone FROM clpr_users ORDER BY id")
            #expect(users.count == 7)
            #expect(users[0] == ["1", "usr_legacy_a", "+79161234567", "8 916 123-45-67"])
            #expect(users[1][1]?.hasPrefix("usr_") == true && users[1][1] != "usr_")
            #expect(users[1][2...] == ["+79167654321", "+7 916 765-43-21"])
            #expect(users[2][1]?.hasPrefix("usr_") == true)
            #expect(users[2][2...] == ["not a phone", nil])
            #expect(users[5][2...] == ["+79165550000", nil])

            // Accounts: normalized where that collides with nothing; ambiguous and colliding ones stay as typed.
            let accounts = try await store.inspect(
                "SELECT user_id, channel, channel_user_id, legacy_channel_user_id FROM clpr_user_accounts ORDER BY id")
            #expect(
                accounts == [
                    ["1", "web_form", "+79161234567", "8 916 123-45-67"],
                    ["1", "telegram", "123456", nil],
                    ["2", "web_form", "+79167654321", "+7 916 765-43-21"],
                    ["3", "web_form", "not a phone", nil],
                    ["4", "web_form", "79161112233", nil],
                    ["5", "web_form", "8 (916) 111-22-33", nil],
                    ["6", "web_form", "+79165550000", nil],
                    ["7", "web_form", "8 916 555-00-00", nil],
                ])

            // Legacy drafts are readable as they are (their unified_id is the backfill's business).
            let draft = try #require(try await store.claim(id: "00000000-0000-4000-8000-000000000001"))
            #expect(draft.unifiedID == "")
            #expect(draft.phone == "8 916 123-45-67")
            #expect(draft.answers == ["trip_country": "Турция"])
            #expect(draft.createdAt == Date(timeIntervalSince1970: 1_735_787_045))
            #expect(draft.revision == 0)
            #expect(try await store.claim(sessionToken: "sess-3")?.isConfirmed == false)
            // A plan stream's lean read of a legacy row (no unified_id, no revision columns set) agrees with the
            // whole claim: owned by nobody, never submitted.
            let legacy = try #require(try await store.claim(sessionToken: "sess-3"))
            #expect(try await store.planStreamClaim(sessionToken: "sess-3") == PlanStreamClaim(legacy))

            // The person logs in with their number in E.164: the legacy user, not a new one.
            let person = try await store.findOrCreateUser(
                channel: .webForm, channelUserID: "+79161234567", phone: "+79161234567")
            #expect(person == User(id: 1, unifiedID: "usr_legacy_a", phone: "+79161234567"))
            #expect(
                try await store.claims(unifiedID: "usr_legacy_a", limit: 50).map(\.id) == [
                    "00000000-0000-4000-8000-000000000005"
                ])
            let newcomer = try await store.findOrCreateUser(
                channel: .webForm, channelUserID: "+79990000001", phone: nil)
            #expect(newcomer.id == 8, "the serial continues after the legacy rows")

            // The new constraints hold.
            await expectStoreError(.conflict) {
                try await store.inspect("UPDATE clpr_users SET unified_id = 'usr_legacy_a' WHERE id = 4")
            }
            var claim = makeClaim(for: person)
            claim.sessionToken = "sess-1"
            await expectStoreError(.conflict) { try await store.insertClaim(claim) }

            // Twice is a no-op.
            let snapshot = try await store.inspect(
                "SELECT id, unified_id, phone, legacy_phone FROM clpr_users WHERE id <= 7 ORDER BY id")
            try await offPool { try store.migrate() }
            #expect(try await store.inspect("SELECT count(*) FROM clpr_schema_migrations") == [["8"]])
            #expect(
                try await store.inspect(
                    "SELECT id, unified_id, phone, legacy_phone FROM clpr_users WHERE id <= 7 ORDER BY id") == snapshot)
        }
    }

    /// Real duplicates (two users sharing a `unified_id`) stop the migration, which rolls back completely.
    @Test func duplicateUnifiedIDsStopTheMigration() async throws {
        try await TestDatabase.with { database in
            let store = try await database.openStore()
            defer { store.close() }
            try await store.execute(
                script: Self.originalSchema + "\nUPDATE clpr_users SET unified_id = 'usr_legacy_a' WHERE id = 4;")
            do {
                try await offPool { try store.migrate() }
                Issue.record("migrated over duplicate unified_ids")
            } catch let error as StoreError {
                #expect(error.code == .conflict)
                #expect(error.debugDescription.contains("clpr_users_unified_id_key"), "\(String(reflecting: error))")
            }
            #expect(try await store.inspect("SELECT version FROM clpr_schema_migrations ORDER BY version") == [["1"]])
            #expect(
                try await store.inspect(
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'clpr_claims' AND column_name = 'revision'"
                ) == [["0"]])
        }
    }
}
