import AppCore
import CPostgres
import FoundationEssentials
import StoreCodec

#if canImport(Glibc)
    import Glibc
#endif

/// A query parameter, always sent as text in its own protocol field (never inside SQL); nil is SQL NULL.
/// The SQL casts it where the type matters (`$1::bigint`, `$2::jsonb`, `$3::timestamptz`).
package struct PostgresValue: Sendable, Equatable {
    package var text: String?

    package init(_ text: String?) { self.text = text }

    package static let null = PostgresValue(nil)
    package static func text(_ value: String?) -> PostgresValue { PostgresValue(value) }
    package static func integer(_ value: Int64?) -> PostgresValue { PostgresValue(value.map { String($0) }) }
    package static func int(_ value: Int?) -> PostgresValue { PostgresValue(value.map { String($0) }) }
    package static func bool(_ value: Bool) -> PostgresValue { PostgresValue(value ? "true" : "false") }
    /// An ISO-8601 UTC timestamp with milliseconds (what the SQLite store keeps too).
    package static func date(_ value: Date?) -> PostgresValue { PostgresValue(value.map(StoreTimestamp.format)) }
    /// `bytea` in hex input form (`\x00ff`).
    package static func bytes(_ value: [UInt8]) -> PostgresValue {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + value.count * 2)
        for byte in value { text += [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] }
        return PostgresValue(String(decoding: text, as: UTF8.self))
    }
}

/// One row of a result, copied out of libpq (the `PGresult` is cleared before rows are handed out).
package struct PostgresRow: Sendable {
    package let values: [String?]
    let sql: String
    let operation: String

    package func text(_ column: Int) -> String? { values[column] }
    package func int64(_ column: Int) -> Int64? { values[column].flatMap { Int64($0) } }
    package func int(_ column: Int) -> Int? { values[column].flatMap { Int($0) } }
    /// `t`/`f` as PostgreSQL prints booleans.
    package func bool(_ column: Int) -> Bool? { values[column].map { $0 == "t" || $0 == "true" } }

    package func requiredText(_ column: Int, _ name: String) throws -> String {
        guard let value = values[column] else { throw corrupt("\(name) is NULL") }
        return value
    }

    package func date(_ column: Int, _ name: String) throws -> Date? {
        guard let text = values[column] else { return nil }
        guard let date = StoreTimestamp.parse(text, allowingOffset: true) else {
            throw corrupt("\(name) is not a timestamp")
        }
        return date
    }

    package func requiredDate(_ column: Int, _ name: String) throws -> Date {
        guard let date = try date(column, name) else { throw corrupt("\(name) is NULL") }
        return date
    }

    package func corrupt(_ what: String) -> StoreError {
        StoreError(.corrupt, operation: operation, detail: "\(what); sql: \(sql)")
    }
}

/// One libpq connection. Not thread-safe: the pool lends it to one operation at a time, on the connection's own
/// queue, so no blocking libpq call ever runs on Swift's cooperative pool.
///
/// Every statement goes through ``check(_:_:sql:file:line:)``, the one place that turns a libpq outcome into a
/// ``StoreError``. A connection found dead (server restart, `pg_terminate_backend`, network) is reset before the
/// next use instead of failing forever.
package final class PostgresConnection {
    private var handle: OpaquePointer?
    private let configuration: PostgresStore.Configuration
    /// Statements prepared on this session, by SQL text: a statement runs parsed and planned once per connection,
    /// not at every call (parsing and planning were about a third of PostgreSQL's CPU on the plan intake's path).
    /// Emptied when the session is reset (the server forgot them).
    private var prepared: [String: String] = [:]
    /// Names of statements the server lost or can no longer run (SQLSTATE 26000, 0A000 after DDL changed a
    /// result type): deallocated before they are prepared again, which waits until no transaction is open.
    private var stale: Set<String> = []
    /// The most statements kept prepared; past it (SQL built at run time, as in tooling) statements run unprepared.
    static let maxPrepared = 200

    /// Connects.
    /// - Throws: ``StoreError/Code/unavailable`` when the server cannot be reached or refuses the login.
    init(configuration: PostgresStore.Configuration) throws {
        self.configuration = configuration
        let pairs = configuration.connectionKeywords
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        let connection = PQconnectdbParams(keywordPointers, valuePointers, 0)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            throw StoreError(
                .unavailable, operation: "connect",
                detail: "\(message.trimmingNewlines()); server: \(configuration)")
        }
        cpq_silence_notices(connection)
        handle = connection
    }

    deinit {
        close()
    }

    /// Closes the connection. Safe to call twice.
    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Makes sure the connection can be used: a connection libpq already knows is broken, or an idle one with
    /// unexpected input waiting (the server's goodbye before it closed the socket), is reset (reconnected with
    /// the same parameters).
    /// - Throws: ``StoreError/Code/unavailable`` if the server still cannot be reached.
    func ensureUsable(_ operation: String) throws {
        guard let handle else {
            throw StoreError(.unavailable, operation: operation, detail: "connection is closed")
        }
        if PQstatus(handle) == CONNECTION_OK && !hasPendingInput(handle) { return }
        PQreset(handle)
        prepared = [:]
        stale = []
        guard PQstatus(handle) == CONNECTION_OK else {
            throw StoreError(
                .unavailable, operation: operation,
                detail: "reconnect failed: \(String(cString: PQerrorMessage(handle)).trimmingNewlines())")
        }
        cpq_silence_notices(handle)
    }

    /// Whether the server sent something while the connection sat idle; for an idle connection that is a
    /// termination notice or end-of-file.
    private func hasPendingInput(_ handle: OpaquePointer) -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// Whether libpq considers the connection broken (it is reset before its next use).
    var isBroken: Bool { handle.map { PQstatus($0) != CONNECTION_OK } ?? true }

    // MARK: - The funnel

    /// Turns a libpq result into rows or a ``StoreError`` (the one place that does), and clears it.
    ///
    /// SQLSTATE class `23` (unique, foreign key, not null, check) → ``StoreError/Code/conflict``; a lost
    /// connection, class `08`, `53`, `57P0x`, serialization failures and deadlocks → ``StoreError/Code/unavailable``;
    /// `XX001`/`XX002` → ``StoreError/Code/corrupt``; anything else → ``StoreError/Code/internalFailure``.
    /// The SQL and the server's message go to `detail` only; parameter values never appear.
    private func check(
        _ result: OpaquePointer?, _ operation: String, sql: String, file: String = #fileID, line: Int = #line
    ) throws -> (rows: [PostgresRow], affected: Int) {
        defer { PQclear(result) }
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK, let result {
            let rowCount = Int(PQntuples(result))
            let columnCount = Int(PQnfields(result))
            var rows: [PostgresRow] = []
            rows.reserveCapacity(rowCount)
            for row in 0..<rowCount {
                var values: [String?] = []
                values.reserveCapacity(columnCount)
                for column in 0..<columnCount {
                    if PQgetisnull(result, Int32(row), Int32(column)) != 0 {
                        values.append(nil)
                    } else {
                        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
                        let bytes = PQgetvalue(result, Int32(row), Int32(column))
                        values.append(
                            bytes.map {
                                $0.withMemoryRebound(to: UInt8.self, capacity: length) {
                                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                                }
                            } ?? "")
                    }
                }
                rows.append(PostgresRow(values: values, sql: sql, operation: operation))
            }
            let affected = PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? rowCount
            return (rows, affected)
        }
        let sqlstate = result.flatMap { cpq_sqlstate($0) }.map { String(cString: $0) }
        let message =
            (result.flatMap { PQresultErrorMessage($0) } ?? handle.flatMap { PQerrorMessage($0) })
            .map { String(cString: $0).trimmingNewlines() } ?? "no result"
        let code = Self.code(sqlstate: sqlstate, connectionBroken: isBroken)
        throw StoreError(
            code, operation: operation, detail: "SQLSTATE \(sqlstate ?? "none"): \(message); sql: \(sql)",
            file: file, line: line)
    }

    static func code(sqlstate: String?, connectionBroken: Bool) -> StoreError.Code {
        guard !connectionBroken, let sqlstate else { return connectionBroken ? .unavailable : .internalFailure }
        switch sqlstate {
        case let state where state.hasPrefix("23"): return .conflict
        case let state where state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P"):
            return .unavailable
        case "40001", "40P01", "55P03", "57014": return .unavailable
        case "XX001", "XX002": return .corrupt
        default: return .internalFailure
        }
    }

    // MARK: - Statements

    /// Runs parameter-free SQL, possibly several statements (DDL, transaction control), with the simple protocol.
    func execute(script sql: String, operation: String) throws {
        let handle = try requireHandle(operation, sql: sql)
        _ = try check(PQexec(handle, sql), operation, sql: sql)
    }

    /// Runs one statement with `parameters` (`$1`, `$2`, …) and returns the number of rows it changed.
    @discardableResult
    package func execute(_ sql: String, _ parameters: [PostgresValue] = [], operation: String) throws -> Int {
        try run(sql, parameters, operation: operation).affected
    }

    /// Runs one statement with `parameters` and maps every row.
    package func query<T>(
        _ sql: String, _ parameters: [PostgresValue] = [], operation: String, _ map: (PostgresRow) throws -> T
    ) throws -> [T] {
        try run(sql, parameters, operation: operation).rows.map(map)
    }

    /// The first row mapped, or nil when there is none.
    package func queryFirst<T>(
        _ sql: String, _ parameters: [PostgresValue] = [], operation: String, _ map: (PostgresRow) throws -> T
    ) throws -> T? {
        try run(sql, parameters, operation: operation).rows.first.map(map)
    }

    /// Runs `sql` as a statement prepared on this session (``prepared``), or with `PQexecParams` once the cache is
    /// full. Every parameter goes as a C string copy (freed afterwards); types are inferred by the server or given
    /// by casts in `sql`; results come back as text.
    private func run(
        _ sql: String, _ parameters: [PostgresValue], operation: String
    ) throws -> (rows: [PostgresRow], affected: Int) {
        let handle = try requireHandle(operation, sql: sql)
        for (index, parameter) in parameters.enumerated() where parameter.text?.utf8.contains(0) == true {
            // libpq passes text parameters as C strings and PostgreSQL text cannot hold U+0000: refuse rather
            // than silently cut the value short.
            throw StoreError(
                .internalFailure, operation: operation,
                detail: "parameter $\(index + 1) contains U+0000, which PostgreSQL cannot store; sql: \(sql)")
        }
        let copies = parameters.map { $0.text.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        // Set when the server no longer has (or can no longer run) the prepared statement.
        var lost = false
        func execute() throws -> OpaquePointer? {
            guard let name = try statementName(for: sql, handle: handle, operation: operation) else {
                return pointers.withUnsafeBufferPointer { buffer in
                    PQexecParams(handle, sql, Int32(buffer.count), nil, buffer.baseAddress, nil, nil, 0)
                }
            }
            let result = pointers.withUnsafeBufferPointer { buffer in
                PQexecPrepared(handle, name, Int32(buffer.count), buffer.baseAddress, nil, nil, 0)
            }
            let sqlstate = result.flatMap { cpq_sqlstate($0) }.map { String(cString: $0) }
            if sqlstate == "26000" || sqlstate == "0A000" {
                // The server lost the statement (a pooler's other session, `DEALLOCATE`) or its plan no longer fits
                // the tables: forget it, so that it is prepared afresh.
                prepared[sql] = nil
                stale.insert(name)
                lost = true
            }
            return result
        }
        let result = try execute()
        // A failed statement outside a transaction changed nothing: run it again, once, freshly prepared.
        if lost, PQtransactionStatus(handle) == PQTRANS_IDLE {
            PQclear(result)
            return try check(try execute(), operation, sql: sql)
        }
        return try check(result, operation, sql: sql)
    }

    /// The name `sql` is prepared under on every connection and every instance: one name always means one text (so
    /// a name can never run another statement, even through a pooler that mixes sessions up).
    static func statementName(_ sql: String) -> String {
        // FNV-1a, 64 bits: stable across processes, unlike `Hasher`.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "clpr_" + String(hash, radix: 16)
    }

    /// The name `sql` is prepared under on this session, preparing it first if needed; nil (run it unprepared)
    /// once the cache is full, or while a stale copy cannot be dropped yet (a transaction is open). A statement
    /// that fails to prepare (a syntax error, a missing table) throws as its execution would have.
    private func statementName(for sql: String, handle: OpaquePointer, operation: String) throws -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.maxPrepared else { return nil }
        let name = Self.statementName(sql)
        if stale.contains(name) {
            guard PQtransactionStatus(handle) == PQTRANS_IDLE else { return nil }
            // It may be gone already: the outcome does not matter, only that the name is free afterwards.
            PQclear(PQexec(handle, "DEALLOCATE \(name)"))
            stale.remove(name)
        }
        _ = try check(PQprepare(handle, name, sql, 0, nil), operation, sql: sql)
        prepared[sql] = name
        return name
    }

    private func requireHandle(_ operation: String, sql: String) throws -> OpaquePointer {
        guard let handle else {
            throw StoreError(.unavailable, operation: operation, detail: "connection is closed; sql: \(sql)")
        }
        return handle
    }

    // MARK: - Transactions

    /// Runs `body` between `BEGIN` and `COMMIT`; on a throw it rolls back and rethrows `body`'s error unchanged.
    package func withTransaction<T>(_ operation: String, _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(script: "BEGIN", operation: operation)
        do {
            let result = try body(self)
            try execute(script: "COMMIT", operation: operation)
            return result
        } catch {
            if let handle, PQtransactionStatus(handle) != PQTRANS_IDLE {
                PQclear(PQexec(handle, "ROLLBACK"))
            }
            throw error
        }
    }
}

extension String {
    fileprivate func trimmingNewlines() -> String {
        var text = Substring(self)
        while text.last?.isNewline == true || text.last == " " { text = text.dropLast() }
        return String(text).replacingNewlines()
    }

    private func replacingNewlines() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
