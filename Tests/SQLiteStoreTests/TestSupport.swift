import AppCore
import AppTesting
import Foundation
import SQLiteStore

/// A store under test, as the ports see it.
typealias AnyStore = any IdentityStore & ClaimStore

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

/// A date on a whole millisecond (what SQLite keeps), `offset` seconds after a fixed instant.
func testDate(_ offset: Int64 = 0) -> Date {
    Date(timeIntervalSince1970: Double(1_796_306_709_123 + offset * 1000) / 1000)
}

/// A draft of `user` with a fresh id and session token.
func makeClaim(
    for user: User, channel: Channel = .webForm, status: ClaimStatus = .draft, updatedAt: Date = testDate(),
    phone: String? = "+79990000001", answers: [String: String] = ["q1": "a1"]
) -> Claim {
    Claim(
        id: UUID().uuidString.lowercased(), sessionToken: "tok_" + UUID().uuidString.lowercased(),
        unifiedID: user.unifiedID, userID: user.id, channel: channel, typeCode: "osago", status: status,
        phone: phone, answers: answers, statusHistory: [StatusChange(status: status, at: testDate())],
        createdAt: testDate(), updatedAt: updatedAt, expiresAt: testDate(86_400))
}

/// The error a test closure throws on purpose.
struct DeliberateFailure: Error, Equatable {
    var tag: Int
}
