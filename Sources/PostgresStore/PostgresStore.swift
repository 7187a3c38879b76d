import AppCore
import FoundationEssentials

/// The production store: ``IdentityStore`` and ``ClaimStore`` on PostgreSQL (libpq), on the seed's `clpr_*`
/// tables plus clpr's own; it also runs on a database the original system already filled (see ``migrate()``).
///
/// A small pool of connections (``Configuration/poolSize``, default 4) serves every call; each connection has
/// its own thread, so blocking libpq calls never run on Swift's cooperative pool, and each is used by one
/// operation at a time. Every statement is parameterised (`PQexecParams`); multi-statement operations run in one
/// transaction that rolls back on a throw. Failures become ``StoreError``s: a unique violation is
/// ``StoreError/Code/conflict``, an unreachable server ``StoreError/Code/unavailable``; SQL only ever appears in
/// `detail`. A connection found dead is reset before its next use.
///
/// ```swift
/// let store = try PostgresStore(configuration: .init(url: "postgres://clpr@127.0.0.1:5432/clpr"))
/// try store.migrate()
/// defer { store.close() }
/// ```
public final class PostgresStore: IdentityStore, ClaimStore {
    /// The configuration the store was opened with.
    public let configuration: Configuration
    private let pool: ConnectionPool

    /// Connects once (so a wrong URL, password or an unreachable server fails here) and sets up the pool; further
    /// connections open on demand. Call ``migrate()`` before use and ``close()`` when done.
    /// - Throws: ``StoreError/Code/unavailable`` if the server cannot be reached or refuses the login.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        let first = try PostgresConnection(configuration: configuration)
        self.pool = ConnectionPool(configuration: configuration, first: first)
    }

    /// Connections of the pool lent out right now (for `clpr_db_pool_in_use`); at most `poolSize`.
    public var connectionsInUse: Int { pool.inUse }

    deinit {
        assert(pool.isClosed, "PostgresStore deinitialized without close()")
        pool.close()
    }

    /// Applies every migration not yet recorded in `clpr_schema_migrations`, each in its own transaction together
    /// with its record, under an advisory lock (two servers starting at once apply each migration once). Running
    /// it again is a no-op. Works on an empty database and on one holding the original system's tables and rows:
    /// see ``Migration`` for what each step does to legacy data. Blocks the calling thread (on a connection of
    /// its own); call it at start-up, not from the cooperative pool.
    /// - Throws: ``StoreError`` if a migration fails (that migration is rolled back).
    public func migrate() throws {
        let connection = try PostgresConnection(configuration: configuration)
        defer { connection.close() }
        try Migration.apply(Migration.all, on: connection)
    }

    /// The key stored under `name`, storing `candidate` first if there is none (the first instance to ask wins;
    /// every later one, on any server, reads the same key), as stored in `clpr_server_keys`.
    public func serverKey(named name: String, candidate: String) throws -> String {
        let connection = try PostgresConnection(configuration: configuration)
        defer { connection.close() }
        _ = try connection.execute(
            "INSERT INTO clpr_server_keys (name, key) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            [.text(name), .text(candidate)], operation: "server key")
        let text = try connection.queryFirst(
            "SELECT key FROM clpr_server_keys WHERE name = $1", [.text(name)], operation: "server key"
        ) { row in row.text(0) }
        guard let key = text ?? nil else {
            throw StoreError(.corrupt, operation: "server key", detail: "clpr_server_keys.\(name)")
        }
        return key
    }

    /// Closes every connection, after the operations running on them. Later calls fail with
    /// ``StoreError/Code/unavailable``. Calling it twice is harmless.
    public func close() {
        pool.close()
    }

    // MARK: - Lending connections

    /// Runs `body` with a pooled connection on that connection's own thread and returns its result. For
    /// operations of this package (the store's methods, maintenance commands such as a backfill).
    /// - Throws: ``StoreError/Code/unavailable`` when the store is closed or the server unreachable; otherwise
    ///   what `body` throws, unchanged.
    @discardableResult
    package func withConnection<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await pool.withConnection(operation, body)
    }

    /// Runs `body` in one transaction (`BEGIN` … `COMMIT`) on a pooled connection; a throw rolls back and is
    /// rethrown unchanged.
    @discardableResult
    package func withTransaction<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await pool.withConnection(operation) { connection in
            try connection.withTransaction(operation, body)
        }
    }

    /// Runs diagnostic SQL (`EXPLAIN`, row counts, test fixtures) and returns every row's values as text.
    /// For tests and tooling inside the package; values still travel as parameters.
    @discardableResult
    package func inspect(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> [[String?]] {
        try await withConnection("inspect") { connection in
            try connection.query(sql, parameters, operation: "inspect") { $0.values }
        }
    }

    /// Runs parameter-free SQL, several statements allowed (test fixtures, `CREATE DATABASE`).
    package func execute(script: String) async throws {
        try await withConnection("execute script") { connection in
            try connection.execute(script: script, operation: "execute script")
        }
    }
}
