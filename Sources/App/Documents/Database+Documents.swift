import AppCore
import FoundationEssentials
import Logging

extension Database {
    /// The same store as a ``DocumentStore``.
    var documents: any DocumentStore {
        switch self {
        case .sqlite(let store): store
        case .postgres(let store): store
        }
    }

    /// Removes what interrupted uploads left in the file store: every temporary file, and every blob no
    /// `clpr_documents` row names. With SQLite (one process owns the database) everything found; with PostgreSQL
    /// only files older than ``sharedGrace``, since another instance on the same files directory may be in the
    /// middle of an upload. Runs before the server accepts requests.
    func removeOrphanFiles(_ files: any FileStore, logger: Logger) throws {
        let hashes: Set<String>
        let cutoff: Date
        switch self {
        case .sqlite(let store):
            hashes = try store.documentContentHashesAtStart()
            cutoff = Date().addingTimeInterval(1)
        case .postgres(let store):
            hashes = try store.documentContentHashesAtStart()
            cutoff = Date().addingTimeInterval(-Self.sharedGrace)
        }
        let removed = try files.removeOrphans(keeping: hashes, modifiedBefore: cutoff)
        if removed.temporaryFiles > 0 || removed.blobs > 0 {
            logger.notice(
                "removed orphaned files",
                metadata: ["temporary_files": "\(removed.temporaryFiles)", "blobs": "\(removed.blobs)"])
        }
    }

    /// How old an orphan must be before a PostgreSQL instance removes it at start (seconds).
    static let sharedGrace: Double = 3600
}
