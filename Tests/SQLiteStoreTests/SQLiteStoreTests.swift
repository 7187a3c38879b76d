import AppCore
import AppTesting
import Foundation
import SQLiteStore
import Testing

/// The store contract, run against SQLite and the in-memory store alike.
@Suite struct StoreContractTests {
    @Test(arguments: StoreKind.allCases)
    func findOrCreateUserIsStable(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).findOrCreateUserIsStable() }
    }

    @Test(arguments: StoreKind.allCases)
    func parallelFindOrCreateUserYieldsOneUser(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).parallelFindOrCreateUserYieldsOneUser() }
    }

    @Test(arguments: StoreKind.allCases)
    func insertAndLoadRoundTrips(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).insertAndLoadRoundTrips() }
    }

    @Test(arguments: StoreKind.allCases)
    func draftsAreFoundByUnifiedIDOnly(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).draftsAreFoundByUnifiedIDOnly() }
    }

    @Test(arguments: StoreKind.allCases)
    func updateClaimIsAtomic(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).updateClaimIsAtomic() }
    }

    @Test(arguments: StoreKind.allCases)
    func parallelUpdatesDoNotLoseWrites(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).parallelUpdatesDoNotLoseWrites() }
    }

    @Test(arguments: StoreKind.allCases)
    func awkwardValuesRoundTrip(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).awkwardValuesRoundTrip() }
    }

    @Test(arguments: StoreKind.allCases)
    func planRecordsAreStoredOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).planRecordsAreStoredOnce() }
    }

    @Test(arguments: StoreKind.allCases)
    func loginCodesCountFailedAttempts(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).loginCodesCountFailedAttempts() }
    }

    @Test(arguments: StoreKind.allCases)
    func sessionsLifecycle(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).sessionsLifecycle() }
    }

    @Test(arguments: StoreKind.allCases)
    func rateEventsAreCountedPerWindow(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).rateEventsAreCountedPerWindow() }
    }

    @Test(arguments: StoreKind.allCases)
    func loginCodesAreConsumedOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).loginCodesAreConsumedOnce() }
    }

    @Test(arguments: StoreKind.allCases)
    func telegramUsersAreUpserted(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).telegramUsersAreUpserted() }
    }

    @Test(arguments: StoreKind.allCases)
    func parallelTelegramUpsertsYieldOneUser(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).parallelTelegramUpsertsYieldOneUser() }
    }

    @Test(arguments: StoreKind.allCases)
    func linkingANewPhoneGivesTheTelegramUserTheWebAccount(_ kind: StoreKind) async throws {
        try await withStore(kind) {
            try await StoreContract(store: $0).linkingANewPhoneGivesTheTelegramUserTheWebAccount()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func linkingMergesTheTelegramUserIntoTheWebUser(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).linkingMergesTheTelegramUserIntoTheWebUser() }
    }

    @Test(arguments: StoreKind.allCases)
    func allSessionsOfAPersonCanBeRevoked(_ kind: StoreKind) async throws {
        try await withStore(kind) { try await StoreContract(store: $0).allSessionsOfAPersonCanBeRevoked() }
    }
}

/// What only the SQLite adapter can show: schema, migrations, query plans, the stored JSON shape.
@Suite struct SQLiteStoreTests {
    static let tables: Set<String> = [
        "clpr_schema_migrations", "clpr_users", "clpr_user_accounts", "clpr_claims", "clpr_users_tg",
        "clpr_claim_documents", "clpr_documents", "clpr_sessions", "clpr_login_codes", "clpr_claim_plans",
        "clpr_plan_dead_letters", "clpr_outbox", "clpr_callback_signatures", "clpr_rate_limits", "clpr_server_keys",
    ]

    @Test func migrationsAreIdempotent() async throws {
        try await withSQLiteStore { store, path in
            try store.migrate()
            try store.migrate()
            let versions = try await store.inspect(
                "SELECT version, name FROM clpr_schema_migrations ORDER BY version")
            #expect(
                versions == [
                    [.integer(1), .text("seed_tables")], [.integer(2), .text("clpr_sessions_codes_plans")],
                    [.integer(4), .text("outbox_callbacks_crm")], [.integer(5), .text("telegram_identity")],
                    [.integer(6), .text("server_keys")], [.integer(7), .text("claim_documents")],
                    [.integer(8), .text("outbox_depth_indexes")],
                ])
            let names = try await store.inspect("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")
            let present = Set(
                names.compactMap { row -> String? in if case .text(let name) = row[0] { name } else { nil } })
            #expect(present.isSuperset(of: Self.tables))
            #expect(present.contains("clpr_claims_unified_status_updated"))
            #expect(present.isSuperset(of: ["clpr_outbox_pending_created", "clpr_outbox_dead_created"]))

            // A second process opening the same file finds everything applied.
            let again = try SQLiteStore(configuration: .init(location: .file(path: path)))
            defer { again.close() }
            try again.migrate()
            #expect(try await again.inspect("SELECT COUNT(*) FROM clpr_schema_migrations") == [[.integer(7)]])
            let pragmas = try await again.inspect("PRAGMA journal_mode")
            #expect(pragmas == [[.text("wal")]])
            #expect(try await again.inspect("PRAGMA foreign_keys") == [[.integer(1)]])
            #expect(try await again.inspect("PRAGMA synchronous") == [[.integer(1)]])
        }
    }

    @Test func parallelFindOrCreateUserWritesOneRowEach() async throws {
        try await withSQLiteStore { store, _ in
            let user = try await StoreContract(store: store).parallelFindOrCreateUserYieldsOneUser()
            #expect(try await store.inspect("SELECT COUNT(*) FROM clpr_users") == [[.integer(1)]])
            #expect(
                try await store.inspect("SELECT user_id, channel, channel_user_id FROM clpr_user_accounts")
                    == [[.integer(user.id), .text("web_form"), .text("+79991112233")]])
            let row = try await store.inspect("SELECT universal_id, phone FROM clpr_users")
            #expect(row.first?.last == .text("+79991112233"))
            guard case .text(let universalID) = row.first?.first else {
                Issue.record("universal_id missing")
                return
            }
            #expect(UUID(uuidString: universalID) != nil)
        }
    }

    /// Two connections on one file (as two processes would) still create exactly one user.
    @Test func findOrCreateUserIsRaceFreeAcrossConnections() async throws {
        try await withSQLiteStore { first, path in
            let second = try SQLiteStore(configuration: .init(location: .file(path: path)))
            defer { second.close() }
            let stores: [SQLiteStore] = [first, second]
            let unifiedIDs = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        try await stores[index % 2].findOrCreateUser(
                            channel: .telegram, channelUserID: "777", phone: nil
                        ).unifiedID
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(unifiedIDs.count == 1)
            #expect(try await first.inspect("SELECT COUNT(*) FROM clpr_users") == [[.integer(1)]])
        }
    }

    @Test func draftLookupUsesTheIndex() async throws {
        try await withSQLiteStore { store, _ in
            let plan = try await store.inspect(
                """
                EXPLAIN QUERY PLAN SELECT id FROM clpr_claims
                WHERE unified_id = ? AND status_code = 'draft' ORDER BY updated_at DESC LIMIT ?
                """,
                [.text("usr_x"), .integer(20)])
            let details = plan.compactMap { row -> String? in
                if case .text(let detail) = row.last { detail } else { nil }
            }
            #expect(
                details.contains { $0.contains("USING INDEX clpr_claims_unified_status_updated") },
                "\(details)")
            #expect(!details.contains { $0.contains("TEMP B-TREE") }, "the index serves the ORDER BY: \(details)")
        }
    }

    /// `payload` keeps the seed's keys, with `wizard_plan` embedded as an object; dates are ISO-8601 with ms.
    @Test func payloadKeepsTheSeedShape() async throws {
        try await withSQLiteStore { store, _ in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
            var claim = makeClaim(for: user)
            claim.wizardPlan = #"{"steps":[],"version":1}"#
            try await store.insertClaim(claim)

            let rows = try await store.inspect(
                """
                SELECT payload, json_type(payload, '$.wizard_plan'), json_type(payload, '$.documents_meta'),
                    payload ->> '$.claim_id', payload ->> '$.phone', created_at, expires_at, unified_id
                FROM clpr_claims WHERE id = ?
                """,
                [.text(claim.id)])
            let row = try #require(rows.first)
            #expect(row[1] == .text("object"))
            #expect(row[2] == .text("array"))
            #expect(row[3] == .text(claim.id))
            #expect(row[4] == .text("+79990000001"))
            #expect(row[5] == .text("2026-12-03T14:05:09.123Z"))
            #expect(row[6] == .text("2026-12-04T14:05:09.123Z"))
            #expect(row[7] == .text(user.unifiedID))

            guard case .text(let payloadText) = row[0] else {
                Issue.record("payload is not text")
                return
            }
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(payloadText.utf8)) as? [String: Any])
            #expect(
                Set(payload.keys)
                    == ["phone", "claim_id", "wizard_plan", "answers", "documents_meta", "status_history"])
            #expect(payload["answers"] as? [String: String] == ["q1": "a1"])
            let history = try #require(payload["status_history"] as? [[String: String]])
            #expect(history == [["status": "draft", "at": "2026-12-03T14:05:09.123Z"]])
        }
    }

    /// A row written by older tools (no clpr columns filled, extra payload keys) reads, and survives an update.
    @Test func legacyRowsReadAndKeepUnknownPayloadKeys() async throws {
        try await withSQLiteStore { store, _ in
            _ = try await store.inspect(
                """
                INSERT INTO clpr_claims (id, session_token, channel, status_code, payload, created_at, updated_at)
                VALUES (?, ?, 'web_form', 'draft', ?, '2025-01-02 03:04:05', '2025-01-02T03:04:05.5Z')
                """,
                [
                    .text("legacy-1"), .text("tok-legacy"),
                    .text(#"{"phone":"+79990000009","claim_id":"legacy-1","answers":{"n":5},"crm":{"contact_id":17}}"#),
                ])
            let legacy = try #require(try await store.claim(id: "legacy-1"))
            #expect(legacy.unifiedID == "")
            #expect(legacy.phone == "+79990000009")
            #expect(legacy.answers == ["n": "5"])
            #expect(legacy.wizardPlan == nil)
            #expect(legacy.documentsMeta == "[]")
            #expect(legacy.createdAt == Date(timeIntervalSince1970: 1_735_787_045))
            #expect(legacy.updatedAt == Date(timeIntervalSince1970: 1_735_787_045.5))

            _ = try await store.updateClaim(id: "legacy-1") { $0.unifiedID = "usr_backfilled" }
            let rows = try await store.inspect(
                "SELECT payload ->> '$.crm.contact_id', unified_id FROM clpr_claims WHERE id = 'legacy-1'")
            #expect(rows == [[.integer(17), .text("usr_backfilled")]])
        }
    }

    @Test func deadLettersKeepRawBytes() async throws {
        try await withSQLiteStore { store, _ in
            try await store.storeDeadLetter(
                channel: "claim:plan:x", payload: [0, 1, 255], reason: "no such token", receivedAt: testDate())
            #expect(
                try await store.inspect("SELECT channel, payload, reason, received_at FROM clpr_plan_dead_letters")
                    == [
                        [
                            .text("claim:plan:x"), .blob([0, 1, 255]), .text("no such token"),
                            .text("2026-12-03T14:05:09.123Z"),
                        ]
                    ])
        }
    }

    @Test func constraintViolationsAreConflictsWithoutSQLInDescription() async throws {
        try await withSQLiteStore { store, _ in
            let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
            let claim = makeClaim(for: user)
            try await store.insertClaim(claim)
            do {
                try await store.insertClaim(claim)
                Issue.record("duplicate insert succeeded")
            } catch let error as StoreError {
                #expect(error.code == .conflict)
                #expect(!error.description.contains("INSERT"))
                #expect(error.debugDescription.contains("INSERT INTO clpr_claims"))
            }
        }
    }

    @Test func closedStoreIsUnavailable() async throws {
        let store = try SQLiteStore(configuration: .init(location: .memory))
        try store.migrate()
        _ = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
        store.close()
        store.close()
        await expectStoreError(.unavailable) { _ = try await store.claim(id: "x") }
        #expect(throws: StoreError.self) { try store.migrate() }
    }
}
