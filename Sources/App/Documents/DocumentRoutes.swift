import AppCore
import Crypto
import FoundationEssentials
import HTTPServer
import Logging

/// The documents step: uploads per document slot of the confirmed plan, listing, download, delete, and the final
/// "send" that moves the claim to `in_work`. Every route checks that the session's person owns the claim (404
/// otherwise, as for claims).
struct DocumentRoutes: Sendable {
    /// The limits (`CLPR_DOCUMENT_MAX_BYTES`, `CLPR_DOCUMENTS_PER_CLAIM`).
    struct Limits: Sendable {
        var maxBytes: Int
        var perClaim: Int
    }

    let claims: ClaimRoutes
    let store: any DocumentStore
    let files: any FileStore
    let limits: Limits
    /// Whether a "claim submitted" webhook goes to n8n through the outbox.
    let notifiesN8N: Bool
    let logger: Logger

    /// What a multipart body may add to the file: boundaries, part headers, `field_name`.
    static let formOverhead = 64 * 1024

    func register(in router: inout Router) {
        let files = self.files
        let maxBytes = limits.maxBytes
        router.post(
            "/api/v1/claims/:claim_id/documents",
            form: FormBody(maxBodySize: maxBytes + Self.formOverhead, tooLarge: tooLarge.response()) {
                DocumentUploadSink(files: files, maxBytes: maxBytes)
            }, use: upload)
        router.get("/api/v1/claims/:claim_id/documents", use: list)
        router.post("/api/v1/claims/:claim_id/documents/submit", use: submit)
        router.get("/api/v1/claims/:claim_id/documents/:document_id", use: download)
        router.delete("/api/v1/claims/:claim_id/documents/:document_id", use: delete)
    }

    // MARK: - Upload

    @Sendable func upload(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let sink = request.form as? DocumentUploadSink else {
            throw APIError(415, "unsupported_media_type", "Ожидается multipart/form-data", field: "Content-Type")
        }
        defer { sink.discard() }
        let session = try await claims.authenticator.require(request)
        let claim = try await claims.ownedClaim(request.parameters["claim_id"], session: session)
        let (received, sha256) = sink.result()
        switch received.problem {
        case .tooLarge?:
            throw tooLarge
        case .tooManyFiles?:
            throw APIError(400, "too_many_files", "Отправляйте по одному файлу", field: "file")
        case .storage(let detail)?:
            logger.error("document not stored", metadata: ["claim_id": claim.id, "error": detail])
            throw APIError.unavailable()
        case nil:
            break
        }
        try Self.checkAcceptsDocuments(claim)
        guard received.complete else {
            throw APIError(400, "incomplete_body", "Файл пришёл не полностью, попробуйте ещё раз", field: "file")
        }
        guard !received.fieldName.isEmpty else {
            throw APIError(400, "missing_field", "Укажите, какой это документ", field: "field_name")
        }
        let slots = DocumentSlots(planJSON: claim.wizardPlan)
        guard let slot = slots.slot(received.fieldName) else {
            throw APIError(422, "unknown_document", "Такого документа нет в заявке", field: "field_name")
        }
        guard let file = received.file, received.size > 0 else {
            throw APIError(400, "missing_file", "Выберите файл", field: "file")
        }
        guard let type = DocumentContentType.sniff(received.head) else {
            throw APIError(
                415, "unsupported_document_type", "Подходят PDF, JPEG, PNG, HEIC или WebP", field: "file")
        }
        let originalName = DocumentFileName.sanitize(received.fileName, fallback: slot.code + "." + type.fileExtension)
        guard type.agrees(withFileName: received.fileName, declaredType: received.declaredType) else {
            throw APIError(
                415, "document_type_mismatch", "Содержимое файла не совпадает с его типом или расширением",
                field: "file")
        }
        try file.complete()
        let now = Date()
        let document = ClaimDocument(
            id: UUID().uuidString.lowercased(), claimID: claim.id, fieldName: slot.code,
            fileID: UUID().uuidString.lowercased(), fileName: sha256 + "." + type.fileExtension,
            originalFileName: originalName, contentType: type, size: received.size, sha256: sha256, uploadedAt: now)
        let perClaim = limits.perClaim
        let files = self.files
        let addition: DocumentAddition
        do {
            addition = try await store.addDocument(
                document,
                check: { claim, existing in
                    try Self.checkAcceptsDocuments(claim)
                    let duplicate = existing.contains { $0.fieldName == document.fieldName && $0.sha256 == sha256 }
                    guard duplicate || existing.count < perClaim else {
                        throw APIError(
                            409, "too_many_documents", "В заявке уже \(perClaim) файлов: удалите лишние",
                            field: "file")
                    }
                },
                place: { try files.place(file, sha256: sha256) })
        } catch let error as StoreError where error.code == .notFound {
            throw APIError.claimNotFound
        }
        switch addition {
        case .added(let stored):
            logger.info(
                "document added",
                metadata: [
                    "claim_id": claim.id, "document_id": stored.id, "field_name": stored.fieldName,
                    "size": "\(stored.size)", "content_type": stored.contentType.mediaType,
                ])
            return JSONResponse.make(status: 201, DocumentJSON.make(stored))
        case .existing(let stored):
            return JSONResponse.make(status: 200, DocumentJSON.make(stored))
        }
    }

    /// 413 for a file over the limit: before the body is read when `Content-Length` says so, after otherwise.
    var tooLarge: APIError {
        APIError(
            413, "document_too_large", "Файл слишком большой: не больше \(Self.megabytes(limits.maxBytes))",
            field: "file", extra: ["max_bytes": .number(Double(limits.maxBytes))])
    }

    static func checkAcceptsDocuments(_ claim: Claim) throws {
        guard claim.status == .awaitingDocuments else {
            throw APIError(
                409, "documents_closed",
                claim.status == .draft ? "Сначала подтвердите заявку" : "Документы по этой заявке уже отправлены")
        }
    }

    static func megabytes(_ bytes: Int) -> String {
        bytes % (1024 * 1024) == 0 ? "\(bytes / (1024 * 1024)) МБ" : "\(bytes) байт"
    }

    // MARK: - Reading

    @Sendable func list(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await claims.authenticator.require(request)
        let claim = try await claims.ownedClaim(request.parameters["claim_id"], session: session)
        let documents = try await store.documents(claimID: claim.id)
        return JSONResponse.make(DocumentJSON.list(claim: claim, documents: documents, limits: limits))
    }

    @Sendable func download(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await claims.authenticator.require(request)
        let claim = try await claims.ownedClaim(request.parameters["claim_id"], session: session)
        let wanted = request.parameters["document_id"].flatMap(ClaimRoutes.canonicalID)
        let documents = try await store.documents(claimID: claim.id)
        guard let document = documents.first(where: { $0.id == wanted }) else { throw Self.documentNotFound }
        guard let blob = try files.open(sha256: document.sha256) else {
            logger.error("document blob missing", metadata: ["claim_id": claim.id, "document_id": document.id])
            throw Self.documentNotFound
        }
        return HTTPResponse(
            status: 200,
            headers: [
                "Content-Type": document.contentType.mediaType,
                "Content-Disposition": DocumentFileName.contentDisposition(document.originalFileName),
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            ],
            body: .file(FileBody(descriptor: blob.descriptor, size: blob.size)))
    }

    static let documentNotFound = APIError(404, "document_not_found", "Документ не найден")

    // MARK: - Delete

    @Sendable func delete(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await claims.authenticator.require(request)
        let claim = try await claims.ownedClaim(request.parameters["claim_id"], session: session)
        guard let id = request.parameters["document_id"].flatMap(ClaimRoutes.canonicalID) else {
            throw Self.documentNotFound
        }
        let files = self.files
        let deleted = try await store.deleteDocument(
            id: id, claimID: claim.id, check: { try Self.checkAcceptsDocuments($0) },
            release: { try files.remove(sha256: $0) })
        guard deleted else { throw Self.documentNotFound }
        logger.info("document deleted", metadata: ["claim_id": claim.id, "document_id": id])
        return HTTPResponse(status: 204)
    }

    // MARK: - Submit

    @Sendable func submit(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await claims.authenticator.require(request)
        let existing = try await claims.ownedClaim(request.parameters["claim_id"], session: session)
        // Sending again what was sent is a no-op (a double click, a retried request).
        if existing.status == .inWork {
            return JSONResponse.make(ClaimJSON.make(existing, catalog: claims.catalog))
        }
        let notifies = notifiesN8N
        let claim = try await claims.updateEnqueueing(existing.id) { claim in
            if claim.status == .inWork { return [] }
            try Self.checkAcceptsDocuments(claim)
            // `documents_meta` is rewritten with every document change under the same row lock: it is the truth.
            let missing = DocumentSlots(planJSON: claim.wizardPlan)
                .missing(given: DocumentsMeta.fieldNames(in: claim.documentsMeta))
            guard missing.isEmpty else {
                throw APIError(
                    422, "documents_missing", "Загрузите: " + missing.map(\.title).joined(separator: ", "),
                    field: missing.first.map { "documents." + $0.code },
                    extra: ["missing": .array(missing.map { .string($0.code) })])
            }
            let now = Date()
            claim.status = .inWork
            claim.statusHistory.append(StatusChange(status: .inWork, at: now))
            claim.updatedAt = now
            guard notifies else { return [] }
            return [
                OutboxMessage(
                    kind: .claimSubmitted, key: claim.id, body: Self.submittedBody(claim, at: now),
                    resendWhenFinished: false)
            ]
        }
        logger.info("claim documents sent", metadata: ["claim_id": claim.id])
        return JSONResponse.make(ClaimJSON.make(claim, catalog: claims.catalog))
    }

    /// The "claim submitted" webhook body (docs/n8n.md, "Claim submitted").
    static func submittedBody(_ claim: Claim, at date: Date) -> String {
        CompactJSON.encode(
            .object([
                "version": .number(1),
                "event": .string("claim_submitted"),
                "claim_id": .string(claim.id),
                "session_token": .string(claim.sessionToken),
                "submission_id": .optional(claim.submissionID),
                "type_code": .string(claim.typeCode),
                "unified_id": .string(claim.unifiedID),
                "status": .string(claim.status.rawValue),
                "submitted_at": .string(date.formatted(.iso8601)),
                "documents": JSONValue(jsonText: claim.documentsMeta),
            ]))
    }
}
