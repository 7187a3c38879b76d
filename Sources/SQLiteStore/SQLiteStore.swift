import AppCore
import Dispatch
import Foundation
import Synchronization

/// The embedded default store: ``IdentityStore`` and ``ClaimStore`` on one SQLite database file, using the seed's
/// `clpr_*` tables plus clpr's own.
///
/// One connection serves everything, from one serial `DispatchQueue`: every blocking `sqlite3_*` call runs there
/// and resumes the caller's continuation, so none runs on Swift's cooperative pool, and calls never interleave.
/// Multi-statement operations run in `BEGIN IMMEDIATE` transactions, so they stay atomic even when another
/// process shares the file.
///
/// ```swift
/// let store = try SQLiteStore(configuration: .init(location: .file(path: "data/clpr.sqlite")))
/// try store.migrate()
/// defer { store.close() }
/// ```
public final class SQLiteStore: IdentityStore, ClaimStore {
    /// Where the database lives and how long to wait for a lock held by another process.
    public struct Configuration: Sendable {
        /// The database's location.
        public enum Location: Sendable {
            /// A file; its parent directory is created if missing. The WAL files sit next to it.
            case file(path: String)
            /// A private in-memory database that disappears on ``SQLiteStore/close()`` (tests).
            case memory
        }

        /// Where the database lives.
        public var location: Location
        /// How long a statement waits for another connection's lock before failing with
        /// ``StoreError/Code/unavailable``. Default 5 s.
        public var busyTimeout: Duration

        /// - Parameters:
        ///   - location: where the database lives.
        ///   - busyTimeout: lock wait before ``StoreError/Code/unavailable``. Default 5 s.
        public init(location: Location, busyTimeout: Duration = .seconds(5)) {
            self.location = location
            self.busyTimeout = busyTimeout
        }
    }

    /// The configuration the store was opened with.
    public let configuration: Configuration
    /// The one queue every SQLite call runs on.
    private let queue: DispatchQueue
    /// The connection; nil once closed. Only touched on `queue`.
    private let connection: Mutex<Connection?>

    /// Opens (creating if needed) the database and sets `journal_mode=WAL`, `foreign_keys=ON`, the busy timeout
    /// and `synchronous=NORMAL`. Call ``migrate()`` before use and ``close()`` when done.
    /// - Throws: ``StoreError/Code/unavailable`` if the file or its directory cannot be opened or created.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        let queue = DispatchQueue(label: "clpr.sqlite-store")
        let path: String
        switch configuration.location {
        case .memory:
            path = ":memory:"
        case .file(let filePath):
            path = filePath
            let directory = URL(fileURLWithPath: filePath).deletingLastPathComponent().path
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw StoreError(
                    .unavailable, operation: "create database directory", detail: "\(directory): \(error)")
            }
        }
        let connection = try queue.sync {
            try Connection(path: path, busyTimeout: configuration.busyTimeout)
        }
        self.queue = queue
        self.connection = Mutex(connection)
    }

    deinit {
        connection.withLock { connection in
            assert(connection == nil, "SQLiteStore deinitialized without close()")
            connection?.close()
        }
    }

    /// Applies every migration not yet recorded in `clpr_schema_migrations`, each in its own transaction
    /// together with its record. Running it again is a no-op.
    /// - Throws: ``StoreError`` if a migration fails (that migration is rolled back).
    public func migrate() throws {
        try queue.sync {
            try connection.withLock { connection in
                guard let connection else {
                    throw StoreError(.unavailable, operation: "migrate", detail: "store is closed")
                }
                try Self.migrate(connection)
            }
        }
    }

    /// Finalizes statements and closes the connection. Later calls fail with ``StoreError/Code/unavailable``.
    /// Calling it twice is harmless.
    public func close() {
        queue.sync {
            connection.withLock { connection in
                connection?.close()
                connection = nil
            }
        }
    }

    private static func migrate(_ connection: Connection) throws {
        try connection.execute(
            script: """
                CREATE TABLE IF NOT EXISTS clpr_schema_migrations (
                    version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)
                """,
            operation: "create migrations table")
        for migration in Migration.all {
            try connection.withTransaction("migrate") { connection in
                let applied = try connection.queryFirst(
                    "SELECT 1 FROM clpr_schema_migrations WHERE version = ?", [.int(migration.version)],
                    operation: "migrate"
                ) { _ in true }
                guard applied == nil else { return }
                try connection.execute(script: migration.sql, operation: "migrate \(migration.name)")
                try connection.execute(
                    "INSERT INTO clpr_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.int(migration.version), .text(migration.name), .date(Date())], operation: "migrate")
            }
        }
    }

    // MARK: - Running on the queue

    /// Runs `body` with the connection on the store's queue and resumes with its result or error (unchanged).
    @discardableResult
    func perform<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result {
                        try self.connection.withLock { connection in
                            guard let connection else {
                                throw StoreError(.unavailable, operation: operation, detail: "store is closed")
                            }
                            return try body(connection)
                        }
                    })
            }
        }
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction on the store's queue; a throw rolls back and is rethrown
    /// unchanged.
    func performTransaction<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await perform(operation) { connection in
            try connection.withTransaction(operation, body)
        }
    }

    /// Runs read-only diagnostic SQL (`EXPLAIN QUERY PLAN`, row counts) and returns every row's values.
    /// For tests and tooling inside the package; values still travel as parameters.
    package func inspect(_ sql: String, _ parameters: [SQLValue] = []) async throws -> [[SQLValue]] {
        try await perform("inspect") { connection in
            try connection.query(sql, parameters, operation: "inspect") { row in
                (0..<row.columnCount).map { row.value($0) }
            }
        }
    }
}
