import AppTesting
import Testing

/// ``DocumentStoreContract`` on SQLite.
@Suite struct SQLiteDocumentsTests {
    @Test func addDedupeDeleteKeepMetaInStep() async throws {
        try await withSQLiteStore { store, _ in
            try await DocumentStoreContract(store: store).addDedupeDeleteKeepMetaInStep()
        }
    }

    @Test func refusalsWriteNothing() async throws {
        try await withSQLiteStore { store, _ in try await DocumentStoreContract(store: store).refusalsWriteNothing() }
    }

    @Test func parallelAddsAreAllKeptAndCounted() async throws {
        try await withSQLiteStore { store, _ in
            try await DocumentStoreContract(store: store).parallelAddsAreAllKeptAndCounted()
        }
    }
}
