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
