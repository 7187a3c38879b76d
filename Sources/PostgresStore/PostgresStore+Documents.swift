import AppCore
import FoundationEssentials
import StoreCodec

// MARK: - DocumentStore

extension PostgresStore: DocumentStore {
    /// Adds a document in one transaction that locks the claim row (`FOR UPDATE`: uploads to one claim take
    /// turns) and the content row (the upsert), so a concurrent delete of the same content waits or is waited for
    /// (see ``DocumentStore/addDocument(_:check:place:)``).
    public func addDocument(
        _ document: ClaimDocument, check: @escaping @Sendable (Claim, [ClaimDocument]) throws -> Void,
        place: @escaping @Sendable () throws -> Void
    ) async throws -> DocumentAddition {
        guard UUID(uuidString: document.claimID) != nil else { throw StoreError(.notFound, operation: "add document") }
        return try await withTransaction("add document") { connection in
            guard
                let (claim, _) = try Self.loadClaim(
                    where: "id = $1 FOR UPDATE", .text(document.claimID), connection)
            else {
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
                    VALUES ($1::uuid, 'clpr_upload', NULL,
                        jsonb_build_object('sha256', $2::text, 'size', $3::bigint, 'content_type', $4::text),
                        $5::timestamptz, $2, $3, $4)
                    ON CONFLICT (sha256) WHERE sha256 IS NOT NULL DO UPDATE SET sha256 = excluded.sha256
                    RETURNING id::text
                    """,
                    [
                        .text(document.fileID), .text(document.sha256), .integer(document.size),
                        .text(document.contentType.mediaType), .date(document.uploadedAt),
                    ], operation: "add document"
                ) { try $0.requiredText(0, "id") } ?? document.fileID
            // The blob is in place before the row that names it is written.
            try place()
            try connection.execute(
                """
                INSERT INTO clpr_claim_documents (id, claim_id, field_name, file_id, uploaded_at, file_name,
                    original_file_name)
                VALUES ($1::uuid, $2, $3, $4, ($5::timestamptz AT TIME ZONE 'UTC'), $6, $7)
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
        try await withConnection("list documents") { connection in try Self.documents(of: claimID, connection) }
    }

    /// Deletes a document in one transaction that locks the claim row, then the content row before counting who
    /// still uses it (see ``DocumentStore/deleteDocument(id:claimID:check:release:)``).
    public func deleteDocument(
        id: String, claimID: String, check: @escaping @Sendable (Claim) throws -> Void,
        release: @escaping @Sendable (String) throws -> Void
    ) async throws -> Bool {
        guard UUID(uuidString: claimID) != nil, UUID(uuidString: id) != nil else { return false }
        return try await withTransaction("delete document") { connection in
            guard let (claim, _) = try Self.loadClaim(where: "id = $1 FOR UPDATE", .text(claimID), connection) else {
                throw StoreError(.notFound, operation: "delete document")
            }
            let documents = try Self.documents(of: claim.id, connection)
            guard let document = documents.first(where: { $0.id == id }) else { return false }
            try check(claim)
            try connection.execute(
                "DELETE FROM clpr_claim_documents WHERE id = $1::uuid AND claim_id = $2", [.text(id), .text(claim.id)],
                operation: "delete document")
            try Self.rewriteDocumentsMeta(of: claim.id, documents: documents.filter { $0.id != id }, connection)
            // Lock the content row first: an upload of the same bytes holding it commits its row before we count.
            _ = try connection.queryFirst(
                "SELECT 1 FROM clpr_documents WHERE id = $1::uuid FOR UPDATE", [.text(document.fileID)],
                operation: "delete document"
            ) { _ in true }
            let stillUsed = try connection.queryFirst(
                "SELECT 1 FROM clpr_claim_documents WHERE file_id = $1 LIMIT 1", [.text(document.fileID)],
                operation: "delete document"
            ) { _ in true }
            if stillUsed == nil {
                try connection.execute(
                    "DELETE FROM clpr_documents WHERE id = $1::uuid", [.text(document.fileID)],
                    operation: "delete document")
                try release(document.sha256)
            }
            return true
        }
    }

    /// Every stored content's SHA-256.
    public func documentContentHashes() async throws -> Set<String> {
        try await withConnection("list document contents") { connection in
            Set(
                try connection.query(
                    "SELECT sha256 FROM clpr_documents WHERE sha256 IS NOT NULL", [],
                    operation: "list document contents"
                ) { try $0.requiredText(0, "sha256") })
        }
    }

    /// ``documentContentHashes()`` on a connection of its own, without a task: for the start-up cleanup, before
    /// anything is served.
    public func documentContentHashesAtStart() throws -> Set<String> {
        let connection = try PostgresConnection(configuration: configuration)
        defer { connection.close() }
        return Set(
            try connection.query(
                "SELECT sha256 FROM clpr_documents WHERE sha256 IS NOT NULL", [], operation: "list document contents"
            ) { try $0.requiredText(0, "sha256") })
    }

    // MARK: Rows

    static func documents(of claimID: String, _ connection: PostgresConnection) throws -> [ClaimDocument] {
        try connection.query(
            """
            SELECT d.id::text, d.claim_id, d.field_name, d.file_id, d.file_name, d.original_file_name,
                b.content_type, b.size_bytes, b.sha256, (d.uploaded_at AT TIME ZONE 'UTC')
            FROM clpr_claim_documents d JOIN clpr_documents b ON b.id::text = d.file_id
            WHERE d.claim_id = $1 AND b.sha256 IS NOT NULL
            ORDER BY d.uploaded_at, d.id
            """,
            [.text(claimID)], operation: "list documents"
        ) { row in
            let type = DocumentContentType.allCases.first { $0.mediaType == row.text(6) }
            guard let type else { throw row.corrupt("unknown content type") }
            return ClaimDocument(
                id: try row.requiredText(0, "id"), claimID: try row.requiredText(1, "claim_id"),
                fieldName: row.text(2) ?? "", fileID: try row.requiredText(3, "file_id"), fileName: row.text(4) ?? "",
                originalFileName: row.text(5) ?? "", contentType: type, size: row.int64(7) ?? 0,
                sha256: try row.requiredText(8, "sha256"), uploadedAt: try row.requiredDate(9, "uploaded_at"))
        }
    }

    /// `payload.documents_meta` := `documents`, and the claim's `updated_at` moves.
    static func rewriteDocumentsMeta(
        of claimID: String, documents: [ClaimDocument], _ connection: PostgresConnection
    ) throws {
        try connection.execute(
            """
            UPDATE clpr_claims
            SET payload = jsonb_set(COALESCE(payload, '{}'::jsonb), '{documents_meta}', $1::jsonb),
                updated_at = $2::timestamptz
            WHERE id = $3
            """,
            [.text(DocumentsMeta.encode(documents)), .date(Date()), .text(claimID)], operation: "documents meta")
    }
}
