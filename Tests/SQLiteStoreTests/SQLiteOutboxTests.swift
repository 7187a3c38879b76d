import AppCore
import AppTesting
import Testing

/// The outbox contract on SQLite and in memory.
@Suite struct SQLiteOutboxTests {
    func withOutboxStore(_ kind: StoreKind, _ body: (OutboxContract) async throws -> Void) async throws {
        switch kind {
        case .sqlite: try await withSQLiteStore { store, _ in try await body(OutboxContract(store: store)) }
        case .inMemory: try await body(OutboxContract(store: InMemoryStore()))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func enqueueingUpdateIsAtomic(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.enqueueingUpdateIsAtomic() }
    }

    @Test(arguments: StoreKind.allCases)
    func insertingEnqueuesAtomically(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.insertingEnqueuesAtomically() }
    }

    @Test(arguments: StoreKind.allCases)
    func depthCountsPendingAndDead(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.depthCountsPendingAndDead() }
    }

    @Test(arguments: StoreKind.allCases)
    func linkingEnqueuesTheReplies(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.linkingEnqueuesTheReplies() }
    }

    @Test(arguments: StoreKind.allCases)
    func leaseAndComplete(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.leaseAndComplete() }
    }

    @Test(arguments: StoreKind.allCases)
    func repeatedKeys(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.repeatedKeys() }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentLeasesAreDisjoint(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.concurrentLeasesAreDisjoint() }
    }

    @Test(arguments: StoreKind.allCases)
    func callbackSignaturesDetectReplays(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.callbackSignaturesDetectReplays() }
    }

    @Test(arguments: StoreKind.allCases)
    func crmContactIDIsKept(_ kind: StoreKind) async throws {
        try await withOutboxStore(kind) { try await $0.crmContactIDIsKept() }
    }
}
