import FoundationEssentials

extension ClaimStatus {
    /// Confirmed, waiting for the documents the plan lists; `POST …/documents/submit` moves it to ``inWork``.
    public static let awaitingDocuments = ClaimStatus(rawValue: "awaiting_documents")
}

extension OutboxKind {
    /// A claim whose documents were sent, handed to the n8n workflow (key: the claim id).
    public static let claimSubmitted = OutboxKind(rawValue: "n8n.submitted")
}

/// One uploaded file of a claim: a `clpr_claim_documents` row joined with its `clpr_documents` blob row.
public struct ClaimDocument: Sendable, Equatable {
    /// `clpr_claim_documents.id`, a lowercase UUID.
    public var id: String
    public var claimID: String
    /// The plan's document code this file belongs to (`passport`), `field_name`.
    public var fieldName: String
    /// `clpr_documents.id` of the content (shared by every document with the same bytes).
    public var fileID: String
    /// The name in storage: `<sha256>.<ext>` (`file_name`).
    public var fileName: String
    /// The person's name for the file, without path or control characters (`original_file_name`).
    public var originalFileName: String
    public var contentType: DocumentContentType
    public var size: Int64
    /// Lowercase hex SHA-256 of the content: the blob's address in the file store.
    public var sha256: String
    public var uploadedAt: Date

    public init(
        id: String, claimID: String, fieldName: String, fileID: String, fileName: String, originalFileName: String,
        contentType: DocumentContentType, size: Int64, sha256: String, uploadedAt: Date
    ) {
        self.id = id
        self.claimID = claimID
        self.fieldName = fieldName
        self.fileID = fileID
        self.fileName = fileName
        self.originalFileName = originalFileName
        self.contentType = contentType
        self.size = size
        self.sha256 = sha256
        self.uploadedAt = uploadedAt
    }
}

/// `payload.documents_meta`: the claim's documents as a JSON array, rewritten from the rows in the same
/// transaction as every change of them.
public enum DocumentsMeta {
    struct Entry: Codable {
        var id: String
        var field_name: String
        var file_id: String
        var file_name: String
        var original_file_name: String
        var content_type: String
        var size: Int64
        var sha256: String
        var uploaded_at: String
    }

    /// The JSON array text for `documents`, in their order (keys sorted).
    public static func encode(_ documents: [ClaimDocument]) -> String {
        let entries = documents.map { document in
            Entry(
                id: document.id, field_name: document.fieldName, file_id: document.fileID,
                file_name: document.fileName, original_file_name: document.originalFileName,
                content_type: document.contentType.mediaType, size: document.size, sha256: document.sha256,
                uploaded_at: document.uploadedAt.formatted(.iso8601))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(entries)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    /// The `field_name` of every entry of `json` (entries clpr did not write are counted if they name a field).
    public static func fieldNames(in json: String) -> [String] {
        struct Named: Decodable { var field_name: String? }
        let entries = (try? JSONDecoder().decode([Named].self, from: Data(json.utf8))) ?? []
        return entries.compactMap(\.field_name)
    }
}

/// The document slots of a confirmed claim: one per document its plan lists.
public struct DocumentSlots: Sendable, Equatable {
    public var documents: [RequiredDocument]

    public init(documents: [RequiredDocument]) { self.documents = documents }

    /// The slots of `planJSON` (a stored plan); empty when there is no plan or it lists no documents.
    public init(planJSON: String?) {
        guard let planJSON, let plan = try? JSONDecoder().decode(ClaimPlan.self, from: Data(planJSON.utf8)) else {
            self.documents = []
            return
        }
        self.documents = plan.requiredDocuments
    }

    public func slot(_ code: String) -> RequiredDocument? { documents.first { $0.code == code } }

    /// Required slots with no file among `fieldNames`.
    public func missing(given fieldNames: [String]) -> [RequiredDocument] {
        let filled = Set(fieldNames)
        return documents.filter { $0.required && !filled.contains($0.code) }
    }

    /// The status confirming such a plan leads to: documents to upload first, or straight to work.
    public var statusAfterConfirmation: ClaimStatus { documents.isEmpty ? .inWork : .awaitingDocuments }
}
