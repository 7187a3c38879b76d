import FoundationEssentials

/// What adding a document did.
public enum DocumentAddition: Sendable, Equatable {
    /// A new row.
    case added(ClaimDocument)
    /// The same content was already in this slot of this claim: that row, unchanged (nothing was written).
    case existing(ClaimDocument)
}

/// The rows behind claim documents (`clpr_claim_documents` + `clpr_documents`) and `payload.documents_meta`.
public protocol DocumentStore: Sendable {
    /// Adds `document` in one transaction that locks the claim: runs `check` with the claim and its documents
    /// (it throws to refuse: status, limits); returns ``DocumentAddition/existing(_:)`` when a document with the
    /// same `fieldName` and `sha256` exists; otherwise finds or creates the content's `clpr_documents` row (by
    /// SHA-256, locked), runs `place` (which puts the file in the file store: the row is written only after the
    /// blob is in place), inserts the row and rewrites `payload.documents_meta` from the claim's rows.
    /// - Parameter document: its `fileID` is used for a new content row, replaced by the existing one otherwise.
    /// - Throws: ``StoreError/Code/notFound`` if there is no such claim; what `check` or `place` throws (nothing
    ///   is written).
    func addDocument(
        _ document: ClaimDocument, check: @escaping @Sendable (Claim, [ClaimDocument]) throws -> Void,
        place: @escaping @Sendable () throws -> Void
    ) async throws -> DocumentAddition

    /// The claim's documents, oldest first.
    func documents(claimID: String) async throws -> [ClaimDocument]

    /// Deletes the document `id` of claim `claimID` in one transaction that locks the claim: runs `check` with the
    /// claim (it throws to refuse), deletes the row, rewrites `payload.documents_meta`, and when no document uses
    /// the content any more deletes its `clpr_documents` row and runs `release` with its SHA-256 (which removes
    /// the blob, inside the transaction, so an upload of the same bytes waits and puts it back).
    /// - Returns: false when the claim has no such document.
    func deleteDocument(
        id: String, claimID: String, check: @escaping @Sendable (Claim) throws -> Void,
        release: @escaping @Sendable (String) throws -> Void
    ) async throws -> Bool

    /// The SHA-256 of every stored content (`clpr_documents.sha256`): the blobs the file store must keep.
    func documentContentHashes() async throws -> Set<String>
}

/// A file being written before it has a name in the file store.
public protocol TemporaryFile: AnyObject, Sendable {
    /// Appends bytes.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes to disk (`fsync`) and closes; the file is then ready for ``FileStore/place(_:sha256:)``.
    func complete() throws
    /// Closes and removes the file; harmless twice and after it was placed.
    func discard()
}

/// A blob opened for reading.
public struct OpenBlob: Sendable {
    /// An open, readable file descriptor the caller must close (or hand to something that does).
    public var descriptor: Int32
    public var size: UInt64

    public init(descriptor: Int32, size: UInt64) {
        self.descriptor = descriptor
        self.size = size
    }
}

/// Content-addressed file storage: blobs named by their SHA-256, written to a temporary file first and renamed
/// into place, so a crash never leaves half a blob under a real name. The same bytes are stored once.
public protocol FileStore: Sendable {
    /// A new empty temporary file.
    func makeTemporaryFile() throws -> any TemporaryFile
    /// Gives the completed temporary file the blob name of `sha256` (atomic rename, directory synced), or drops
    /// it when that blob exists already.
    func place(_ file: any TemporaryFile, sha256: String) throws
    /// The blob, opened; nil when it does not exist.
    func open(sha256: String) throws -> OpenBlob?
    /// Removes the blob (nothing when absent).
    func remove(sha256: String) throws
    /// The start-up pass: removes every temporary file, and every blob not in `keeping`, last modified before
    /// `modifiedBefore` (younger files may belong to another instance's upload in progress).
    /// - Returns: how many temporary files and blobs were removed.
    func removeOrphans(keeping: Set<String>, modifiedBefore: Date) throws -> (temporaryFiles: Int, blobs: Int)
}
