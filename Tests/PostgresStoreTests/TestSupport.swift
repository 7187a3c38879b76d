import AppCore
import AppTesting
import Foundation
import PostgresStore
import Testing

/// Where the PostgreSQL tests get a server: `CLPR_TEST_DATABASE_URL`, an admin URL allowed to `CREATE DATABASE`.
/// Unset, the suites are disabled, except inside `./test` (`CLPR_TEST_SUITE=1`), where a missing database must fail
/// rather than skip.
enum TestConfiguration {
    static let adminURL: String? = ProcessInfo.processInfo.environment["CLPR_TEST_DATABASE_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static let isRequired = ProcessInfo.processInfo.environment["CLPR_TEST_SUITE"] == "1"
    /// Whether the PostgreSQL suites run.
    static let isEnabled = adminURL != nil || isRequired

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "CLPR_TEST_DATABASE_URL is not set: the PostgreSQL tests need an admin URL (./test starts a cluster)"
        }
    }

    static func adminConfiguration() throws -> PostgresStore.Configuration {
        guard let adminURL else { throw Missing() }
        return try PostgresStore.Configuration(url: adminURL, poolSize: 1)
    }

    /// Databases in use at a time: each test gets its own, and the 2-core CI machine runs the server too.
    static let databases = ConcurrencyLimit(permits: 4)
}

/// A fresh, empty database of its own for one test; dropped afterwards.
struct TestDatabase: Sendable {
    let name: String
    let configuration: PostgresStore.Configuration
    let admin: PostgresStore

    /// Runs `body` with a new empty database, then drops it (also when `body` throws).
    static func with<T: Sendable>(_ body: (TestDatabase) async throws -> T) async throws -> T {
        try await TestConfiguration.databases.run {
            let adminConfiguration = try TestConfiguration.adminConfiguration()
            let admin = try await offPool { try PostgresStore(configuration: adminConfiguration) }
            defer { admin.close() }
            // The name is ours (hex only), so it can stand in the statement; identifiers cannot be parameters.
            let name = "clpr_test_" + UUID().uuidString.lowercased().replacing("-", with: "")
            try await admin.execute(script: "CREATE DATABASE \(name)")
            var configuration = adminConfiguration
            configuration.database = name
            configuration.poolSize = 4
            let database = TestDatabase(name: name, configuration: configuration, admin: admin)
            do {
                let result = try await body(database)
                try await admin.execute(script: "DROP DATABASE \(name) WITH (FORCE)")
                return result
            } catch {
                try? await admin.execute(script: "DROP DATABASE \(name) WITH (FORCE)")
                throw error
            }
        }
    }

    /// Opens a store on this database (not migrated), off the cooperative pool (connecting blocks).
    func openStore(poolSize: Int = 4) async throws -> PostgresStore {
        var configuration = self.configuration
        configuration.poolSize = poolSize
        return try await offPool { [configuration] in try PostgresStore(configuration: configuration) }
    }
}

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
