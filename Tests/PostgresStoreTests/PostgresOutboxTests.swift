import AppCore
import AppTesting
import PostgresStore
import Testing

/// The outbox contract on PostgreSQL (leases with `FOR UPDATE SKIP LOCKED`), each test in a database of its own.
@Suite(.enabled(if: TestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
struct PostgresOutboxTests {
    private func contract(_ body: (OutboxContract) async throws -> Void) async throws {
        try await withPostgresStore { store, _ in try await body(OutboxContract(store: store)) }
    }

    @Test func enqueueingUpdateIsAtomic() async throws {
        try await contract { try await $0.enqueueingUpdateIsAtomic() }
    }

    @Test func insertingEnqueuesAtomically() async throws {
        try await contract { try await $0.insertingEnqueuesAtomically() }
    }

    @Test func depthCountsPendingAndDead() async throws {
        try await contract { try await $0.depthCountsPendingAndDead() }
    }

    @Test func depthReadsThePartialIndexes() async throws {
        try await withPostgresStore { store, _ in
            // A table of sent items, as after months of use: the depth query must not visit them.
            try await store.execute(
                script: """
                    INSERT INTO clpr_outbox (kind, dedupe_key, body, state, created_at_ms, next_attempt_ms)
                    SELECT 'plan_request', 'k' || g, '{}', 'sent', g, g FROM generate_series(1, 20000) g;
                    ANALYZE clpr_outbox;
                    """)
            let plan = try await store.inspect(
                """
                EXPLAIN SELECT (SELECT count(*) FROM clpr_outbox WHERE state = 'pending'),
                       (SELECT count(*) FROM clpr_outbox WHERE state = 'dead'),
                       (SELECT min(created_at_ms) FROM clpr_outbox WHERE state = 'pending')
                """
            ).compactMap { $0[0] }.joined(separator: "\n")
            #expect(!plan.contains("Seq Scan"), "\(plan)")
            #expect(plan.contains("clpr_outbox_dead_created"), "\(plan)")
            #expect(plan.contains("clpr_outbox_pending_created"), "\(plan)")
        }
    }

    @Test func linkingEnqueuesTheReplies() async throws {
        try await contract { try await $0.linkingEnqueuesTheReplies() }
    }

    @Test func leaseAndComplete() async throws {
        try await contract { try await $0.leaseAndComplete() }
    }

    @Test func repeatedKeys() async throws {
        try await contract { try await $0.repeatedKeys() }
    }

    @Test func concurrentLeasesAreDisjoint() async throws {
        try await contract { try await $0.concurrentLeasesAreDisjoint() }
    }

    @Test func callbackSignaturesDetectReplays() async throws {
        try await contract { try await $0.callbackSignaturesDetectReplays() }
    }

    @Test func crmContactIDIsKept() async throws {
        try await contract { try await $0.crmContactIDIsKept() }
    }
}
