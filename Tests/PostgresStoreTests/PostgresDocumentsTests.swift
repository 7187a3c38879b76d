import AppTesting
import Testing

/// ``DocumentStoreContract`` on PostgreSQL, each test in a database of its own.
@Suite(.enabled(if: TestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
struct PostgresDocumentsTests {
    @Test func addDedupeDeleteKeepMetaInStep() async throws {
        try await withPostgresStore { store, _ in
            try await DocumentStoreContract(store: store).addDedupeDeleteKeepMetaInStep()
        }
    }

    @Test func refusalsWriteNothing() async throws {
        try await withPostgresStore { store, _ in try await DocumentStoreContract(store: store).refusalsWriteNothing() }
    }

    @Test func parallelAddsAreAllKeptAndCounted() async throws {
        try await withPostgresStore { store, _ in
            try await DocumentStoreContract(store: store).parallelAddsAreAllKeptAndCounted()
        }
    }
}
