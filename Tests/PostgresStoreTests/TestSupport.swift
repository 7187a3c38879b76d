import AppCore
import AppTesting
import Foundation
import PostgresStore
import Testing

/// The shared PostgreSQL test support of `AppTesting`, under this suite's names.
typealias TestConfiguration = PostgresTestConfiguration
typealias TestDatabase = PostgresTestDatabase

/// Runs `body` with a fresh, migrated store on a database of its own; closes it and drops the database afterwards.
func withPostgresStore<T: Sendable>(
    poolSize: Int = 4, _ body: (PostgresStore, TestDatabase) async throws -> T
) async throws -> T {
    try await TestDatabase.with { database in
        let store = try await database.openStore(poolSize: poolSize)
        do {
            try await offPool { try store.migrate() }
            let result = try await body(store, database)
            store.close()
            return result
        } catch {
            store.close()
            throw error
        }
    }
}

/// The single text value of a one-row, one-column answer.
func scalar(_ rows: [[String?]]) -> String? {
    rows.first?.first ?? nil
}
