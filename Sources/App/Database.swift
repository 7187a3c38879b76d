import AppCore
import Crypto
import PostgresStore
import SQLiteStore

/// The store the application runs on, as chosen by ``Application/Configuration/database``: one value serving
/// both ports, opened and migrated together, closed once.
enum Database: Sendable {
    case sqlite(SQLiteStore)
    case postgres(PostgresStore)

    /// Opens the configured store and applies pending migrations (a no-op when there are none).
    /// - Throws: ``StoreError`` when the store cannot be opened or migrated (nothing is left open).
    static func open(_ configuration: Application.Configuration) throws -> Database {
        switch configuration.database {
        case .sqlite:
            try FileSystem.makeDirectory(configuration.dataDirectory)
            let store = try SQLiteStore(
                configuration: .init(location: .file(path: configuration.dataDirectory + "/clpr.sqlite3")))
            do {
                try store.migrate()
            } catch {
                store.close()
                throw error
            }
            return .sqlite(store)
        case .postgres(let postgres):
            let store = try PostgresStore(configuration: postgres)
            do {
                try store.migrate()
            } catch {
                store.close()
                throw error
            }
            return .postgres(store)
        }
    }

    /// The key named `name` that every instance on this database shares (created by the first one to start;
    /// stored as hex).
    func serverKey(named name: String) throws -> [UInt8] {
        let candidate = Crypto.hex(Crypto.randomBytes(32))
        let stored =
            switch self {
            case .sqlite(let store): try store.serverKey(named: name, candidate: candidate)
            case .postgres(let store): try store.serverKey(named: name, candidate: candidate)
            }
        guard let key = Crypto.fromHex(stored), key.count >= 32 else {
            throw StoreError(.corrupt, operation: "server key", detail: "clpr_server_keys.\(name)")
        }
        return key
    }

    /// The store behind every port.
    var store: any IdentityStore & ClaimStore & OutboxStore {
        switch self {
        case .sqlite(let store): store
        case .postgres(let store): store
        }
    }

    /// The same store as a ``LegacyClaimStore`` (maintenance: `clpr backfill-unified-id`).
    var legacyClaims: any LegacyClaimStore {
        switch self {
        case .sqlite(let store): store
        case .postgres(let store): store
        }
    }

    /// Closes the store; harmless twice.
    func close() {
        switch self {
        case .sqlite(let store): store.close()
        case .postgres(let store): store.close()
        }
    }
}
