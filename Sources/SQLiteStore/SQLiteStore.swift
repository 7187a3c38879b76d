import AppCore
import Dispatch
import Foundation
import Synchronization

/// The embedded default store: ``IdentityStore`` and ``ClaimStore`` on one SQLite database file, using the seed's
/// `clpr_*` tables plus clpr's own.
///
/// One connection does every write, from one serial `DispatchQueue`: every blocking `sqlite3_*` call runs there
/// and resumes the caller's continuation, so none runs on Swift's cooperative pool, and writes never interleave.
/// Multi-statement operations run in `BEGIN IMMEDIATE` transactions, so they stay atomic even when another
/// process shares the file. With a database file, two more connections each have their own queue: a reader for
/// the lookups every plan stream makes when it opens (WAL lets them run beside a write, and they see every
/// committed write), and a checkpointer that copies the WAL into the database once a second, so that the
/// checkpoint's `fsync` never stalls a write (it did, for tens of milliseconds, on the plan intake's path).
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
    /// Every write runs on this connection and its queue.
    let writer: QueuedConnection
    /// Read-only lookups on hot paths (``performRead(_:_:)``); nil for an in-memory database, which has no
    /// second connection.
    private let reader: QueuedConnection?
    /// Runs the WAL checkpoints; nil for an in-memory database.
    private let checkpointer: QueuedConnection?
    private let checkpointTimer: Mutex<(any DispatchSourceTimer)?>

    /// A connection with its own serial queue: every `sqlite3_*` call on it runs there. Nil once closed.
    final class QueuedConnection: Sendable {
        let queue: DispatchQueue
        let connection: Mutex<Connection?>

        init(label: String, path: String, busyTimeout: Duration, autoCheckpoint: Bool = true) throws {
            let queue = DispatchQueue(label: label)
            self.queue = queue
            connection = Mutex(
                try queue.sync {
                    try Connection(path: path, busyTimeout: busyTimeout, autoCheckpoint: autoCheckpoint)
                })
        }

        /// Runs `body` with the open connection, blocking the caller (start-up and maintenance only).
        func sync<T>(_ operation: String, _ body: @Sendable (Connection) throws -> T) throws -> T {
            try queue.sync { try withOpenConnection(operation, body) }
        }

        /// Runs `body` with the open connection on the queue and resumes with its result or error (unchanged).
        func run<T: Sendable>(_ operation: String, _ body: @escaping @Sendable (Connection) throws -> T)
            async throws -> T
        {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    continuation.resume(with: Result { try self.withOpenConnection(operation, body) })
                }
            }
        }

        /// On the queue only.
        private func withOpenConnection<T>(_ operation: String, _ body: @Sendable (Connection) throws -> T) throws -> T
        {
            try connection.withLock { connection in
                guard let connection else {
                    throw StoreError(.unavailable, operation: operation, detail: "store is closed")
                }
                return try body(connection)
            }
        }

        func close() {
            queue.sync {
                connection.withLock { connection in
                    connection?.close()
                    connection = nil
                }
            }
        }
    }

    /// How often the WAL is checkpointed (a passive checkpoint: it never blocks readers or the writer).
    static let checkpointInterval: DispatchTimeInterval = .seconds(1)

    /// Opens (creating if needed) the database and sets `journal_mode=WAL`, `foreign_keys=ON`, the busy timeout
    /// and `synchronous=NORMAL`. Call ``migrate()`` before use and ``close()`` when done.
    /// - Throws: ``StoreError/Code/unavailable`` if the file or its directory cannot be opened or created.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
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
        let isFile = if case .file = configuration.location { true } else { false }
        writer = try QueuedConnection(
            label: "clpr.sqlite-store", path: path, busyTimeout: configuration.busyTimeout, autoCheckpoint: !isFile)
        guard isFile else {
            reader = nil
            checkpointer = nil
            checkpointTimer = Mutex(nil)
            return
        }
        // Nothing is left open when a later connection fails.
        let reader: QueuedConnection
        let checkpointer: QueuedConnection
        do {
            reader = try QueuedConnection(
                label: "clpr.sqlite-store.reader", path: path, busyTimeout: configuration.busyTimeout)
        } catch {
            writer.close()
            throw error
        }
        do {
            checkpointer = try QueuedConnection(
                label: "clpr.sqlite-store.checkpoint", path: path, busyTimeout: configuration.busyTimeout)
        } catch {
            reader.close()
            writer.close()
            throw error
        }
        self.reader = reader
        self.checkpointer = checkpointer
        let timer = DispatchSource.makeTimerSource(queue: checkpointer.queue)
        timer.schedule(deadline: .now() + Self.checkpointInterval, repeating: Self.checkpointInterval)
        timer.setEventHandler {
            // A failed checkpoint (the file is busy) is retried on the next tick; nothing is lost meanwhile.
            checkpointer.connection.withLock { connection in
                try? connection?.execute(script: "PRAGMA wal_checkpoint(PASSIVE)", operation: "checkpoint")
            }
        }
        timer.resume()
        checkpointTimer = Mutex(timer)
    }

    deinit {
        writer.connection.withLock { connection in
            assert(connection == nil, "SQLiteStore deinitialized without close()")
            connection?.close()
        }
    }

    /// Applies every migration not yet recorded in `clpr_schema_migrations`, each in its own transaction
    /// together with its record. Running it again is a no-op.
    /// - Throws: ``StoreError`` if a migration fails (that migration is rolled back).
    public func migrate() throws {
        try writer.sync("migrate", Self.migrate)
    }

    /// The key stored under `name`, storing `candidate` first if there is none (the first instance to ask wins;
    /// every later one reads the same key), as stored in `clpr_server_keys`.
    public func serverKey(named name: String, candidate: String) throws -> String {
        try writer.sync("server key") { connection in
            try connection.execute(
                "INSERT INTO clpr_server_keys (name, key) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                [.text(name), .text(candidate)], operation: "server key")
            let text = try connection.queryFirst(
                "SELECT key FROM clpr_server_keys WHERE name = ?", [.text(name)], operation: "server key"
            ) { row in row.text(0) }
            guard let key = text ?? nil else {
                throw StoreError(.corrupt, operation: "server key", detail: "clpr_server_keys.\(name)")
            }
            return key
        }
    }

    /// Finalizes statements and closes the connection. Later calls fail with ``StoreError/Code/unavailable``.
    /// Calling it twice is harmless.
    public func close() {
        checkpointTimer.withLock { timer in
            timer?.cancel()
            timer = nil
        }
        checkpointer?.close()
        reader?.close()
        // The writer closes last: SQLite checkpoints the WAL into the database when its last connection closes.
        writer.close()
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

    /// Runs `body` with the writer connection on its queue and resumes with its result or error (unchanged).
    @discardableResult
    func perform<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await writer.run(operation, body)
    }

    /// Runs a read-only `body` on the reader connection (the writer's, for an in-memory database). It sees every
    /// write that completed before the call.
    func performRead<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await (reader ?? writer).run(operation, body)
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
