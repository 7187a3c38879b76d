import AppCore
import Foundation
import PostgresStore

/// Where the PostgreSQL tests get a server: `CLPR_TEST_DATABASE_URL`, an admin URL allowed to `CREATE DATABASE`.
/// Unset, the suites are disabled, except inside `./test` (`CLPR_TEST_SUITE=1`), where a missing database must fail
/// rather than skip.
public enum PostgresTestConfiguration {
    public static let adminURL: String? = ProcessInfo.processInfo.environment["CLPR_TEST_DATABASE_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    public static let isRequired = ProcessInfo.processInfo.environment["CLPR_TEST_SUITE"] == "1"
    /// Whether the PostgreSQL suites run.
    public static let isEnabled = adminURL != nil || isRequired

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "CLPR_TEST_DATABASE_URL is not set: the PostgreSQL tests need an admin URL (./test starts a cluster)"
        }
    }

    public static func adminConfiguration() throws -> PostgresStore.Configuration {
        guard let adminURL else { throw Missing() }
        return try PostgresStore.Configuration(url: adminURL, poolSize: 1)
    }

    /// Databases in use at a time: each test gets its own, and the 2-core CI machine runs the server too.
    public static let databases = ConcurrencyLimit(permits: 4)
}

/// A fresh, empty database of its own for one test; dropped afterwards.
public struct PostgresTestDatabase: Sendable {
    public let name: String
    /// Connects to this database (pool of 4).
    public let configuration: PostgresStore.Configuration

    /// A `CLPR_DATABASE_URL` for this database: the admin URL with its database name replaced (for child
    /// processes such as `clpr serve`).
    public var url: String {
        let admin = PostgresTestConfiguration.adminURL ?? ""
        var base = admin
        if let query = base.firstIndex(of: "?") { base = String(base[..<query]) }
        let query = admin.dropFirst(base.count)
        let schemeEnd = base.range(of: "://")?.upperBound ?? base.startIndex
        if let slash = base[schemeEnd...].firstIndex(of: "/") { base = String(base[..<slash]) }
        return base + "/" + name + query
    }
    /// Connected to the server's admin database.
    public let admin: PostgresStore

    /// Runs `body` with a new empty database, then drops it (also when `body` throws).
    public static func with<T: Sendable>(_ body: (PostgresTestDatabase) async throws -> T) async throws -> T {
        try await PostgresTestConfiguration.databases.run {
            let adminConfiguration = try PostgresTestConfiguration.adminConfiguration()
            let admin = try await offPool { try PostgresStore(configuration: adminConfiguration) }
            defer { admin.close() }
            // The name is ours (hex only), so it can stand in the statement; identifiers cannot be parameters.
            let name = "clpr_test_" + UUID().uuidString.lowercased().replacing("-", with: "")
            try await admin.execute(script: "CREATE DATABASE \(name)")
            var configuration = adminConfiguration
            configuration.database = name
            configuration.poolSize = 4
            let database = PostgresTestDatabase(name: name, configuration: configuration, admin: admin)
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
    public func openStore(poolSize: Int = 4) async throws -> PostgresStore {
        var configuration = self.configuration
        configuration.poolSize = poolSize
        return try await offPool { [configuration] in try PostgresStore(configuration: configuration) }
    }
}

/// The original system's database as it was before clpr: its six `clpr_*` tables with the original's column
/// types (no clpr columns, no unique `unified_id`, `timestamp` columns), no rows. Tests add their rows.
public enum LegacyDatabaseFixture {
    public static let originalTables = """
        CREATE TABLE clpr_users (
            id serial PRIMARY KEY, universal_id uuid, unified_id varchar, phone varchar,
            created_at timestamp DEFAULT now(), updated_at timestamp DEFAULT now());
        CREATE TABLE clpr_user_accounts (
            id serial PRIMARY KEY, user_id integer, channel text, channel_user_id text,
            UNIQUE (channel, channel_user_id));
        CREATE TABLE clpr_claims (
            id uuid PRIMARY KEY, session_token varchar, unified_id varchar, telegram_id bigint, channel text,
            user_id integer, type_code text, status_code text, policy_number text, payload jsonb, is_confirmed boolean,
            created_at timestamp, updated_at timestamp, expires_at timestamp);
        CREATE TABLE clpr_users_tg (
            telegram_id bigint PRIMARY KEY, unified_id varchar, phone_number varchar, first_name_tg text,
            last_name_tg text, username text, language_code text, is_premium boolean, first_name text, last_name text,
            middle_name text, birth_date date);
        CREATE TABLE clpr_claim_documents (
            id uuid PRIMARY KEY, claim_id varchar, field_name text, file_id text, uploaded_at timestamp,
            file_name text, original_file_name text);
        CREATE TABLE clpr_documents (id uuid PRIMARY KEY, source text, content text, metadata jsonb, created_at timestamp);

        """
}
