import AppCore
import FoundationEssentials
import StoreCodec

// MARK: - DocumentStore

extension SQLiteStore: DocumentStore {
    /// Adds a document in one `BEGIN IMMEDIATE` transaction (see ``DocumentStore/addDocument(_:check:place:)``);
    /// the content row is found or created by SHA-256 before `place` runs, the document row after it.
    public func addDocument(
        _ document: ClaimDocument, check: @escaping @Sendable (Claim, [ClaimDocument]) throws -> Void,
        place: @escaping @Sendable () throws -> Void
    ) async throws -> DocumentAddition {
        try await performTransaction("add document") { connection in
            guard let (claim, _) = try Self.loadClaim(where: "id = ?", .text(document.claimID), connection) else {
                throw StoreError(.notFound, operation: "add document")
            }
            let existing = try Self.documents(of: claim.id, connection)
            try check(claim, existing)
            if let same = existing.first(where: { $0.fieldName == document.fieldName && $0.sha256 == document.sha256 })
            {
                return .existing(same)
            }
            var added = document
            added.fileID =
                try connection.queryFirst(
                    """
                    INSERT INTO clpr_documents (id, source, content, metadata, created_at, sha256, size_bytes, content_type)
                    VALUES (?, 'clpr_upload', NULL, json_object('sha256', ?, 'size', ?, 'content_type', ?), ?, ?, ?, ?)
                    ON CONFLICT (sha256) WHERE sha256 IS NOT NULL DO UPDATE SET sha256 = excluded.sha256
                    RETURNING id
                    """,
                    [
                        .text(document.fileID), .text(document.sha256), .integer(document.size),
                        .text(document.contentType.mediaType), .date(document.uploadedAt), .text(document.sha256),
                        .integer(document.size), .text(document.contentType.mediaType),
                    ], operation: "add document"
                ) { try $0.requiredText(0, "id") } ?? document.fileID
            // The blob is in place before the row that names it is written.
            try place()
            try connection.execute(
                """
                INSERT INTO clpr_claim_documents (id, claim_id, field_name, file_id, uploaded_at, file_name,
                    original_file_name)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(added.id), .text(added.claimID), .text(added.fieldName), .text(added.fileID),
                    .date(added.uploadedAt), .text(added.fileName), .text(added.originalFileName),
                ], operation: "add document")
            try Self.rewriteDocumentsMeta(of: claim.id, documents: existing + [added], connection)
            return .added(added)
        }
    }

    /// The claim's documents, oldest first.
    public func documents(claimID: String) async throws -> [ClaimDocument] {
        try await performRead("list documents") { connection in try Self.documents(of: claimID, connection) }
    }

    /// Deletes a document in one `BEGIN IMMEDIATE` transaction (see
    /// ``DocumentStore/deleteDocument(id:claimID:check:release:)``).
    public func deleteDocument(
        id: String, claimID: String, check: @escaping @Sendable (Claim) throws -> Void,
        release: @escaping @Sendable (String) throws -> Void
    ) async throws -> Bool {
        try await performTransaction("delete document") { connection in
            guard let (claim, _) = try Self.loadClaim(where: "id = ?", .text(claimID), connection) else {
                throw StoreError(.notFound, operation: "delete document")
            }
            let documents = try Self.documents(of: claim.id, connection)
            guard let document = documents.first(where: { $0.id == id }) else { return false }
            try check(claim)
            try connection.execute(
                "DELETE FROM clpr_claim_documents WHERE id = ? AND claim_id = ?", [.text(id), .text(claim.id)],
                operation: "delete document")
            try Self.rewriteDocumentsMeta(of: claim.id, documents: documents.filter { $0.id != id }, connection)
            let stillUsed = try connection.queryFirst(
                "SELECT 1 FROM clpr_claim_documents WHERE file_id = ? LIMIT 1", [.text(document.fileID)],
                operation: "delete document"
            ) { _ in true }
            if stillUsed == nil {
                try connection.execute(
                    "DELETE FROM clpr_documents WHERE id = ?", [.text(document.fileID)], operation: "delete document")
                try release(document.sha256)
            }
            return true
        }
    }

    /// Every stored content's SHA-256.
    public func documentContentHashes() async throws -> Set<String> {
        try await performRead("list document contents") { connection in
            Set(
                try connection.query(
                    "SELECT sha256 FROM clpr_documents WHERE sha256 IS NOT NULL", [],
                    operation: "list document contents"
                ) { try $0.requiredText(0, "sha256") })
        }
    }

    /// ``documentContentHashes()`` without a task: for the start-up cleanup, before anything is served.
    public func documentContentHashesAtStart() throws -> Set<String> {
        try writer.sync("list document contents") { connection in
            Set(
                try connection.query(
                    "SELECT sha256 FROM clpr_documents WHERE sha256 IS NOT NULL", [],
                    operation: "list document contents"
                ) { try $0.requiredText(0, "sha256") })
        }
    }

    // MARK: Rows

    static func documents(of claimID: String, _ connection: Connection) throws -> [ClaimDocument] {
        try connection.query(
            """
            SELECT d.id, d.claim_id, d.field_name, d.file_id, d.file_name, d.original_file_name, b.content_type,
                b.size_bytes, b.sha256, d.uploaded_at
            FROM clpr_claim_documents d JOIN clpr_documents b ON b.id = d.file_id
            WHERE d.claim_id = ? AND b.sha256 IS NOT NULL
            ORDER BY d.uploaded_at, d.rowid
            """,
            [.text(claimID)], operation: "list documents"
        ) { row in
            let type = DocumentContentType.allCases.first { $0.mediaType == row.text(6) }
            guard let type else { throw row.corrupt("unknown content type") }
            return ClaimDocument(
                id: try row.requiredText(0, "id"), claimID: try row.requiredText(1, "claim_id"),
                fieldName: row.text(2) ?? "", fileID: try row.requiredText(3, "file_id"), fileName: row.text(4) ?? "",
                originalFileName: row.text(5) ?? "", contentType: type, size: row.int64(7) ?? 0,
                sha256: try row.requiredText(8, "sha256"), uploadedAt: try requiredDate(row, 9, "uploaded_at"))
        }
    }

    /// `payload.documents_meta` := `documents`, and the claim's `updated_at` moves.
    static func rewriteDocumentsMeta(of claimID: String, documents: [ClaimDocument], _ connection: Connection) throws {
        try connection.execute(
            """
            UPDATE clpr_claims
            SET payload = json_set(COALESCE(payload, '{}'), '$.documents_meta', json(?)), updated_at = ?
            WHERE id = ?
            """,
            [.text(DocumentsMeta.encode(documents)), .date(Date()), .text(claimID)], operation: "documents meta")
    }
}
