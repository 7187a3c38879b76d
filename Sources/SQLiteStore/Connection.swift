import AppCore
import CSQLite
import Foundation
import StoreCodec

/// A value bound to, or read from, a statement. Values always travel as parameters, never inside SQL text.
package enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    /// `.text(value)`, or `.null` when `value` is nil.
    static func nullableText(_ value: String?) -> SQLValue { value.map { .text($0) } ?? .null }
    /// `.integer(value)`, or `.null` when `value` is nil.
    static func nullableInteger(_ value: Int64?) -> SQLValue { value.map { .integer($0) } ?? .null }
    /// `.integer(Int64(value))`, or `.null` when `value` is nil.
    static func int(_ value: Int?) -> SQLValue { value.map { .integer(Int64($0)) } ?? .null }
    /// An ISO-8601 UTC timestamp with milliseconds, or `.null`.
    static func date(_ value: Date?) -> SQLValue { value.map { .text(StoreTimestamp.format($0)) } ?? .null }
}

/// One connection and its statement cache. Not thread-safe: only ``SQLiteStore`` touches it, on its serial
/// queue and under its mutex.
final class Connection {
    private var handle: OpaquePointer?
    /// Prepared statements keyed by their SQL text; finalized on ``close()``.
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) the database at `path` (`:memory:` for a private in-memory database).
    /// - Parameter autoCheckpoint: whether commits on this connection run SQLite's automatic WAL checkpoint (with
    ///   its `fsync`); the store's writer leaves it to a background connection instead.
    init(path: String, busyTimeout: Duration, autoCheckpoint: Bool = true) throws {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw StoreError(
                .unavailable, operation: "open database", detail: "\(Self.name(of: rc)): \(message); path: \(path)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        let milliseconds = Int32(clamping: Int64((busyTimeout.timeInterval * 1000).rounded(.up)))
        try check(sqlite3_busy_timeout(db, milliseconds), "set busy timeout", sql: "busy_timeout")
        try execute(script: "PRAGMA journal_mode = WAL", operation: "enable WAL")
        try execute(script: "PRAGMA foreign_keys = ON", operation: "enable foreign keys")
        try execute(script: "PRAGMA synchronous = NORMAL", operation: "set synchronous")
        if !autoCheckpoint { try execute(script: "PRAGMA wal_autocheckpoint = 0", operation: "set checkpointing") }
    }

    deinit {
        close()
    }

    /// Finalizes cached statements and closes the handle. Safe to call twice.
    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    // MARK: - The funnel

    /// Turns a SQLite result code into a ``StoreError`` (the one place that does); returns `rc` when it is not
    /// an error (`SQLITE_OK`, `SQLITE_ROW`, `SQLITE_DONE`).
    ///
    /// `SQLITE_BUSY`/`LOCKED` → ``StoreError/Code/unavailable``, `CONSTRAINT` → ``StoreError/Code/conflict``,
    /// `CORRUPT`/`NOTADB` → ``StoreError/Code/corrupt``, anything else → ``StoreError/Code/internalFailure``.
    /// The SQL and SQLite's message go to `detail` only.
    @discardableResult
    func check(
        _ rc: Int32, _ operation: String, sql: String, file: String = #fileID, line: Int = #line
    ) throws -> Int32 {
        if rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE { return rc }
        let code: StoreError.Code
        switch rc & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY:
            code = .unavailable
        case SQLITE_CONSTRAINT: code = .conflict
        case SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_MISMATCH: code = .corrupt
        default: code = .internalFailure
        }
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "connection closed"
        throw StoreError(
            code, operation: operation, detail: "\(Self.name(of: rc)): \(message); sql: \(sql)", file: file,
            line: line)
    }

    private static func name(of rc: Int32) -> String {
        "SQLITE(\(rc)) \(String(cString: sqlite3_errstr(rc)))"
    }

    // MARK: - Statements

    /// Runs parameter-free SQL (one or more statements: DDL, pragmas, transaction control).
    func execute(script sql: String, operation: String) throws {
        let db = try requireHandle(operation, sql: sql)
        try check(sqlite3_exec(db, sql, nil, nil, nil), operation, sql: sql)
    }

    /// Runs one statement with `parameters` and returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue] = [], operation: String) throws -> Int {
        try withStatement(sql, parameters, operation: operation) { statement in
            while try check(sqlite3_step(statement.pointer), operation, sql: sql) == SQLITE_ROW {}
            return Int(sqlite3_changes(statement.db))
        }
    }

    /// Runs one statement with `parameters` and maps every result row.
    func query<T>(
        _ sql: String, _ parameters: [SQLValue] = [], operation: String, _ map: (Row) throws -> T
    ) throws -> [T] {
        try withStatement(sql, parameters, operation: operation) { statement in
            var rows: [T] = []
            while try check(sqlite3_step(statement.pointer), operation, sql: sql) == SQLITE_ROW {
                rows.append(try map(Row(statement: statement.pointer, sql: sql, operation: operation)))
            }
            return rows
        }
    }

    /// The first row mapped, or nil when there is none.
    func queryFirst<T>(
        _ sql: String, _ parameters: [SQLValue] = [], operation: String, _ map: (Row) throws -> T
    ) throws -> T? {
        try withStatement(sql, parameters, operation: operation) { statement in
            guard try check(sqlite3_step(statement.pointer), operation, sql: sql) == SQLITE_ROW else { return nil }
            return try map(Row(statement: statement.pointer, sql: sql, operation: operation))
        }
    }

    /// Lends the cached prepared statement for `sql` with `parameters` bound; resets it afterwards.
    private func withStatement<T>(
        _ sql: String, _ parameters: [SQLValue], operation: String, _ body: (BoundStatement) throws -> T
    ) throws -> T {
        let db = try requireHandle(operation, sql: sql)
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            try check(sqlite3_prepare_v2(db, sql, -1, &prepared, nil), operation, sql: sql)
            guard let prepared else {
                throw StoreError(.internalFailure, operation: operation, detail: "empty statement; sql: \(sql)")
            }
            statements[sql] = prepared
            statement = prepared
        }
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in parameters.enumerated() {
            try check(bind(value, at: Int32(offset + 1), to: statement), operation, sql: sql)
        }
        return try body(BoundStatement(pointer: statement, db: db))
    }

    private func bind(_ value: SQLValue, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let number):
            return sqlite3_bind_int64(statement, index, number)
        case .text(let string):
            // Explicit length: keeps embedded NULs; an empty string must still bind as '' rather than NULL.
            var string = string
            return string.withUTF8 { bytes in
                guard let base = bytes.baseAddress, bytes.count > 0 else {
                    return sqlite3_bind_text(statement, index, "", 0, csqlite_transient())
                }
                return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    sqlite3_bind_text(statement, index, $0, Int32(bytes.count), csqlite_transient())
                }
            }
        case .blob(let bytes):
            return bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress, buffer.count > 0 else {
                    return sqlite3_bind_zeroblob(statement, index, 0)
                }
                return sqlite3_bind_blob(statement, index, base, Int32(buffer.count), csqlite_transient())
            }
        }
    }

    private func requireHandle(_ operation: String, sql: String) throws -> OpaquePointer {
        guard let handle else {
            throw StoreError(.unavailable, operation: operation, detail: "store is closed; sql: \(sql)")
        }
        return handle
    }

    // MARK: - Transactions

    /// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`; rolls back and rethrows `body`'s error unchanged.
    func withTransaction<T>(_ operation: String, _ body: (Connection) throws -> T) throws -> T {
        try execute(script: "BEGIN IMMEDIATE", operation: operation)
        do {
            let result = try body(self)
            try execute(script: "COMMIT", operation: operation)
            return result
        } catch {
            if let handle, sqlite3_get_autocommit(handle) == 0 {
                sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            }
            throw error
        }
    }
}

/// A prepared statement with its parameters bound, lent for one execution.
private struct BoundStatement {
    var pointer: OpaquePointer
    var db: OpaquePointer
}

/// The current row of a statement, read by column index.
struct Row {
    fileprivate let statement: OpaquePointer
    fileprivate let sql: String
    fileprivate let operation: String

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func text(_ column: Int32) -> String? {
        guard !isNull(column), let bytes = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func int64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : sqlite3_column_int64(statement, column)
    }

    func int(_ column: Int32) -> Int? { int64(column).map { Int($0) } }

    func blob(_ column: Int32) -> [UInt8]? {
        guard !isNull(column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let base = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The value in its storage class, for diagnostics.
    func value(_ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
        case SQLITE_BLOB: .blob(blob(column) ?? [])
        default: .text(text(column) ?? "")
        }
    }

    var columnCount: Int32 { sqlite3_column_count(statement) }

    /// A required text column; `.corrupt` when NULL.
    func requiredText(_ column: Int32, _ name: String) throws -> String {
        guard let value = text(column) else { throw corrupt("\(name) is NULL") }
        return value
    }

    /// A required timestamp column; `.corrupt` when NULL or malformed.
    func date(_ column: Int32, _ name: String) throws -> Date? {
        guard let value = text(column) else { return nil }
        guard let date = StoreTimestamp.parse(value, allowingOffset: false) else {
            throw corrupt("\(name) is not a timestamp")
        }
        return date
    }

    func corrupt(_ what: String) -> StoreError {
        StoreError(.corrupt, operation: operation, detail: "\(what); sql: \(sql)")
    }
}
