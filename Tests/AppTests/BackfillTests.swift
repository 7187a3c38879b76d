import AppCore
import AppTesting
import Foundation
import Logging
import PostgresStore
import SQLiteStore
import Testing

@testable import App

/// `clpr backfill-unified-id` end to end on the original system's database: its tables as they were, legacy
/// web-form drafts with an empty `unified_id` and phones as typed; `migrate`, a dry run, the backfill, then the
/// people log in over HTTP (a real ``Application`` on PostgreSQL) and see exactly their drafts.
@Suite(.enabled(if: PostgresTestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
struct LegacyBackfillTests {
    /// Person A (`+7 916 123-45-67`) has a legacy user and account (typed); person B (`+7 916 765-43-21`) has none.
    static let legacyRows = """
        INSERT INTO clpr_users (id, universal_id, unified_id, phone) VALUES
            (1, gen_random_uuid(), 'usr_legacy_a', '8 916 123-45-67');
        SELECT setval('clpr_users_id_seq', 1);
        INSERT INTO clpr_user_accounts (user_id, channel, channel_user_id) VALUES (1, 'web_form', '8 916 123-45-67');
        INSERT INTO clpr_claims (id, session_token, unified_id, channel, user_id, type_code, status_code, payload,
            is_confirmed, created_at, updated_at) VALUES
            ('00000000-0000-4000-8000-00000000000a', 'a-1', '', 'web_form', NULL, 'travel', 'draft',
             '{"phone": "8 916 123-45-67", "answers": {"trip_country": "Турция"}, "crm": {"contact_id": 17}}',
             false, '2025-01-01 10:00:00', '2025-01-01 10:00:00'),
            ('00000000-0000-4000-8000-00000000000b', 'a-2', NULL, 'web_form', NULL, 'osago', 'draft',
             '{"phone": "+7 916 123-45-67", "answers": {}}', false, '2025-01-02 10:00:00', '2025-01-02 10:00:00'),
            ('00000000-0000-4000-8000-00000000000c', 'a-3', ' ', NULL, NULL, 'property', 'draft',
             '{"phone": "79161234567"}', NULL, '2025-01-03 10:00:00', '2025-01-03 10:00:00'),
            ('00000000-0000-4000-8000-00000000000d', 'a-4', '', 'web_form', NULL, 'travel', 'in_work',
             '{"phone": "8 (916) 123-45-67"}', true, '2025-01-04 10:00:00', '2025-01-04 10:00:00'),
            ('00000000-0000-4000-8000-0000000000b1', 'b-1', '', 'web_form', NULL, 'travel', 'draft',
             '{"phone": "8 (916) 765-43-21", "answers": {"trip_country": "Египет"}}', false,
             '2025-02-01 10:00:00', '2025-02-01 10:00:00'),
            ('00000000-0000-4000-8000-0000000000b2', 'b-2', '', 'web_form', NULL, 'property', 'draft',
             '{"phone": "+7 916 7654321"}', false, '2025-02-02 10:00:00', '2025-02-02 10:00:00'),
            ('00000000-0000-4000-8000-0000000000f1', 'f-1', '', 'web_form', NULL, 'travel', 'draft',
             '{"answers": {"trip_country": "Турция"}}', false, '2025-03-01 10:00:00', '2025-03-01 10:00:00'),
            ('00000000-0000-4000-8000-0000000000f2', 'f-2', '', 'web_form', NULL, 'travel', 'draft',
             '{"phone": "позвоните мне"}', false, '2025-03-02 10:00:00', '2025-03-02 10:00:00'),
            ('00000000-0000-4000-8000-0000000000f3', 'f-3', '', 'telegram', NULL, 'travel', 'draft',
             '{"phone": "8 916 123-45-67"}', false, '2025-03-03 10:00:00', '2025-03-03 10:00:00');
        """

    static let claimsSnapshot = """
        SELECT id::text, unified_id, user_id, payload::text, updated_at::text FROM clpr_claims ORDER BY id
        """

    @Test func backfillMakesLegacyDraftsVisibleToTheirOwnersAfterLogin() async throws {
        try await PostgresTestDatabase.with { database in
            let admin = try await database.openStore(poolSize: 1)
            defer { admin.close() }
            try await admin.execute(script: LegacyDatabaseFixture.originalTables + Self.legacyRows)

            var configuration = TestApplication.configuration()
            configuration.database = .postgres(database.configuration)
            let logger = Logger(label: "clpr.test", logLevel: .warning, handler: InMemoryLogHandler())
            try await offPool { [configuration] in try Application.migrate(configuration: configuration, logger: logger)
            }

            // Dry run: the full report, and not one row changed, not one user created.
            let before = try await admin.inspect(Self.claimsSnapshot)
            let users = "SELECT count(*) FROM clpr_users"
            let accounts = "SELECT count(*) FROM clpr_user_accounts"
            let dryRun = try await Backfill.run(configuration: configuration, dryRun: true, logger: logger)
            #expect(dryRun.dryRun)
            #expect(
                ints(dryRun.scanned, dryRun.fixed, dryRun.usersCreated) == [9, 6, 1],
                "9 without unified_id; A's 4 and B's 2 resolvable; B has no user yet")
            #expect(
                ints(dryRun.skippedNoPhone, dryRun.skippedUnparseablePhone, dryRun.skippedOtherChannel) == [1, 1, 1])
            #expect(dryRun.samples.count == 6)
            #expect(
                dryRun.samples.contains(
                    "00000000-0000-4000-8000-00000000000a: \"8 916 123-45-67\" -> +79161234567 (usr_legacy_a)"))
            #expect(
                dryRun.samples.contains {
                    $0.hasPrefix("00000000-0000-4000-8000-0000000000b1") && $0.hasSuffix("(new user)")
                })
            #expect(dryRun.description.contains("would fix: 6"))
            #expect(try await admin.inspect(Self.claimsSnapshot) == before)
            #expect(try await admin.inspect(users) == [["1"]])
            #expect(try await admin.inspect(accounts) == [["1"]])

            // The backfill, in pages of 2 (5 pages, keyset pagination across fixed and skipped rows).
            let store = try await database.openStore()
            let report: Backfill.Report
            do {
                report = try await Backfill.run(claims: store, identity: store, dryRun: false, batchSize: 2)
                store.close()
            } catch {
                store.close()
                throw error
            }
            #expect(ints(report.scanned, report.fixed, report.usersCreated) == [9, 6, 1])
            #expect(
                ints(report.skippedNoPhone, report.skippedUnparseablePhone, report.skippedOtherChannel) == [1, 1, 1])
            #expect(report.description.contains("fixed: 6"))
            #expect(try await admin.inspect(users) == [["2"]])
            #expect(
                try await admin.inspect(
                    "SELECT channel, channel_user_id FROM clpr_user_accounts ORDER BY id") == [
                        ["web_form", "+79161234567"], ["web_form", "+79167654321"],
                    ])

            let rows = try await admin.inspect(
                """
                SELECT c.id::text, c.unified_id, (c.user_id = u.id)::text, c.payload->>'phone',
                    c.payload->>'legacy_phone', c.updated_at::text
                FROM clpr_claims c LEFT JOIN clpr_users u ON u.unified_id = c.unified_id ORDER BY c.id
                """)
            let unifiedB = try #require(rows.first { $0[0]?.hasSuffix("b1") == true }?[1] ?? nil)
            #expect(unifiedB.hasPrefix("usr_") && unifiedB != "usr_legacy_a")
            let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] ?? "", Array($0.dropFirst())) })
            func row(_ suffix: String) -> [String?] { byID["00000000-0000-4000-8000-" + suffix] ?? [] }
            #expect(
                row("00000000000a") == [
                    "usr_legacy_a", "true", "+79161234567", "8 916 123-45-67", "2025-01-01 10:00:00",
                ])
            #expect(
                row("00000000000b") == [
                    "usr_legacy_a", "true", "+79161234567", "+7 916 123-45-67", "2025-01-02 10:00:00",
                ])
            #expect(
                row("00000000000c") == ["usr_legacy_a", "true", "+79161234567", "79161234567", "2025-01-03 10:00:00"])
            #expect(Array(row("00000000000d")[0...1]) == ["usr_legacy_a", "true"])
            #expect(Array(row("0000000000b1")[0...2]) == [unifiedB, "true", "+79167654321"])
            #expect(Array(row("0000000000b2")[0...2]) == [unifiedB, "true", "+79167654321"])
            #expect(row("0000000000f1") == ["", nil, nil, nil, "2025-03-01 10:00:00"], "no phone: untouched")
            #expect(
                row("0000000000f2") == ["", nil, "позвоните мне", nil, "2025-03-02 10:00:00"], "garbage: untouched")
            #expect(Array(row("0000000000f3")[0...2]) == ["", nil, "8 916 123-45-67"], "Telegram: untouched")
            #expect(
                try await admin.inspect(
                    "SELECT payload->'crm'->>'contact_id' FROM clpr_claims WHERE session_token = 'a-1'") == [["17"]],
                "keys clpr does not know survive")

            // A second run changes nothing.
            let afterFirst = try await admin.inspect(Self.claimsSnapshot)
            let again = try await Backfill.run(configuration: configuration, dryRun: false, logger: logger)
            #expect(ints(again.scanned, again.fixed, again.usersCreated, again.skipped) == [3, 0, 0, 3])
            #expect(try await admin.inspect(Self.claimsSnapshot) == afterFirst)
            #expect(try await admin.inspect(users) == [["2"]])

            // The people log in over HTTP on PostgreSQL, with their number typed yet another way.
            try await withTestApplication(database: .postgres(database.configuration)) { app in
                let cookieA = try await app.login(phone: "8 (916) 123 45 67")
                let me = try await app.json("GET", "/api/v1/me", cookie: cookieA)
                #expect(me.json?["unified_id"]?.string == "usr_legacy_a")
                let draftsA = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookieA)
                #expect(draftsA.status == 200)
                #expect(
                    draftsA.json?["drafts"]?.array?.compactMap { $0["claim_id"]?.string } == [
                        "00000000-0000-4000-8000-00000000000c", "00000000-0000-4000-8000-00000000000b",
                        "00000000-0000-4000-8000-00000000000a",
                    ], "A's three drafts, newest first; not the in_work claim, not B's, not the Telegram one")
                let first = try #require(draftsA.json?["drafts"]?[2])
                #expect(first["answers"]?["trip_country"]?.string == "Турция")
                let claimsA = try await app.json("GET", "/api/v1/claims", cookie: cookieA)
                #expect(claimsA.json?["claims"]?.array?.count == 4)

                let cookieB = try await app.login(phone: "+7 (916) 765-43-21")
                let meB = try await app.json("GET", "/api/v1/me", cookie: cookieB)
                #expect(meB.json?["unified_id"]?.string == unifiedB)
                let draftsB = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookieB)
                #expect(
                    draftsB.json?["drafts"]?.array?.compactMap { $0["claim_id"]?.string } == [
                        "00000000-0000-4000-8000-0000000000b2", "00000000-0000-4000-8000-0000000000b1",
                    ])
                let other = try await app.json(
                    "GET", "/api/v1/claims/00000000-0000-4000-8000-00000000000a", cookie: cookieB)
                #expect(other.status == 404)
            }
        }
    }
}

/// The same port on SQLite (parity), and the orchestration's rules without a server.
@Suite struct SQLiteBackfillTests {
    static func withStore<T>(_ body: (SQLiteStore) async throws -> T) async throws -> T {
        let store = try SQLiteStore(configuration: .init(location: .memory))
        defer { store.close() }
        try store.migrate()
        return try await body(store)
    }

    static func insertLegacyDraft(_ store: SQLiteStore, id: String, unifiedID: String?, payload: String?) async throws {
        _ = try await store.inspect(
            """
            INSERT INTO clpr_claims (id, session_token, unified_id, channel, type_code, status_code, payload,
                created_at, updated_at)
            VALUES (?, ?, ?, 'web_form', 'travel', 'draft', ?, '2025-01-01T10:00:00.000Z', '2025-01-01T10:00:00.000Z')
            """,
            [.text(id), .text("tok-" + id), unifiedID.map { .text($0) } ?? .null, payload.map { .text($0) } ?? .null])
    }

    @Test func resolvesLegacyDraftsByPhoneAndIsIdempotent() async throws {
        try await Self.withStore { store in
            let known = try await store.findOrCreateUser(
                channel: .webForm, channelUserID: "+79161234567", phone: "+79161234567")
            try await Self.insertLegacyDraft(store, id: "c1", unifiedID: "", payload: #"{"phone": "8 916 123-45-67"}"#)
            try await Self.insertLegacyDraft(store, id: "c2", unifiedID: nil, payload: #"{"phone": "+79161234567"}"#)
            try await Self.insertLegacyDraft(store, id: "c3", unifiedID: "", payload: #"{"phone": "7 916 765 43 21"}"#)
            try await Self.insertLegacyDraft(store, id: "c4", unifiedID: "", payload: nil)
            try await Self.insertLegacyDraft(store, id: "c5", unifiedID: "", payload: #"{"phone": "12"}"#)
            try await Self.insertLegacyDraft(store, id: "c6", unifiedID: "usr_someone", payload: #"{"phone": "x"}"#)

            let page = try await store.claimsMissingUnifiedID(after: "c1", limit: 2)
            #expect(
                page == [
                    LegacyClaim(id: "c2", channel: "web_form", phone: "+79161234567"),
                    LegacyClaim(id: "c3", channel: "web_form", phone: "7 916 765 43 21"),
                ])

            let dry = try await Backfill.run(claims: store, identity: store, dryRun: true)
            #expect(
                ints(dry.scanned, dry.fixed, dry.usersCreated, dry.skippedNoPhone, dry.skippedUnparseablePhone) == [
                    5, 3, 1, 1, 1,
                ])
            #expect(try await store.claimsMissingUnifiedID(after: nil, limit: 10).count == 5)

            let report = try await Backfill.run(claims: store, identity: store, dryRun: false, batchSize: 2)
            #expect(ints(report.scanned, report.fixed, report.usersCreated, report.skipped) == [5, 3, 1, 2])
            let c1 = try #require(try await store.claim(id: "c1"))
            #expect(c1.unifiedID == known.unifiedID && c1.userID == known.id && c1.phone == "+79161234567")
            #expect(c1.updatedAt == Date(timeIntervalSince1970: 1_735_725_600), "updated_at untouched")
            let legacy = try await store.inspect(
                "SELECT json_extract(payload, '$.legacy_phone') FROM clpr_claims WHERE id IN ('c1', 'c2') ORDER BY id")
            #expect(legacy == [[.text("8 916 123-45-67")], [.null]])
            let c3 = try #require(try await store.claim(id: "c3"))
            let newcomer = try #require(try await store.existingUser(channel: .webForm, channelUserID: "+79167654321"))
            #expect(c3.unifiedID == newcomer.unifiedID && c3.phone == "+79167654321")
            #expect(try await store.drafts(unifiedID: known.unifiedID, limit: 20).map(\.id).sorted() == ["c1", "c2"])

            let again = try await Backfill.run(claims: store, identity: store, dryRun: false)
            #expect(ints(again.scanned, again.fixed, again.usersCreated) == [2, 0, 0])
        }
    }

    /// A claim given an owner between the listing and the assignment (another backfill) keeps that owner.
    @Test func assignmentLeavesClaimsFixedMeanwhileAlone() async throws {
        try await Self.withStore { store in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79161234567", phone: nil)
            try await Self.insertLegacyDraft(store, id: "c1", unifiedID: "", payload: #"{"phone": "89161234567"}"#)
            _ = try await store.inspect("UPDATE clpr_claims SET unified_id = 'usr_other' WHERE id = 'c1'")
            let changed = try await store.assignUnifiedIDs([
                UnifiedIDAssignment(claimID: "c1", user: user, phone: "+79161234567")
            ])
            #expect(changed == 0)
            #expect(try await store.claim(id: "c1")?.unifiedID == "usr_other")
        }
    }
}

/// The values as an array (array literals of `Int` compare unambiguously against it).
private func ints(_ values: Int...) -> [Int] { values }
