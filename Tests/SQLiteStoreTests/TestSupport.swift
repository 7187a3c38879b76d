import AppCore
import AppTesting
import Foundation
import SQLiteStore

/// The stores the contract runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case inMemory

    var description: String { rawValue }
}

/// Runs `body` with a fresh, migrated SQLite store on its own file under `/tmp` (in a directory that does not
/// exist yet, so opening also creates it), closing the store and deleting the files afterwards.
func withSQLiteStore<T>(_ body: (SQLiteStore, _ path: String) async throws -> T) async throws -> T {
    let directory = "/tmp/clpr-sqlite-tests/\(UUID().uuidString.lowercased())/data"
    let path = directory + "/clpr.sqlite"
    defer {
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path)
    }
    let store = try SQLiteStore(configuration: .init(location: .file(path: path)))
    do {
        try store.migrate()
        let result = try await body(store, path)
        store.close()
        return result
    } catch {
        store.close()
        throw error
    }
}

/// Runs `body` with a fresh store of `kind`.
func withStore(_ kind: StoreKind, _ body: (AnyStore) async throws -> Void) async throws {
    switch kind {
    case .sqlite: try await withSQLiteStore { store, _ in try await body(store) }
    case .inMemory: try await body(InMemoryStore())
    }
}
