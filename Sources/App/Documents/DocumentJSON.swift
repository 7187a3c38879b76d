import AppCore

/// The API's view of claim documents (docs/api.md, `Document` and `Documents`).
enum DocumentJSON {
    static func make(_ document: ClaimDocument) -> JSONValue {
        .object([
            "id": .string(document.id),
            "field_name": .string(document.fieldName),
            "file_name": .string(document.originalFileName),
            "content_type": .string(document.contentType.mediaType),
            "size": .number(Double(document.size)),
            "sha256": .string(document.sha256),
            "uploaded_at": .string(ClaimJSON.iso(document.uploadedAt)),
            "download_url": .string("/api/v1/claims/\(document.claimID)/documents/\(document.id)"),
        ])
    }

    /// The documents step: one slot per document of the plan with its files, and whether "send" may be pressed.
    static func list(claim: Claim, documents: [ClaimDocument], limits: DocumentRoutes.Limits) -> JSONValue {
        let slots = DocumentSlots(planJSON: claim.wizardPlan)
        let missing = slots.missing(given: documents.map(\.fieldName))
        return .object([
            "claim_id": .string(claim.id),
            "status": .string(claim.status.rawValue),
            "accepts_uploads": .bool(claim.status == .awaitingDocuments),
            "can_submit": .bool(claim.status == .awaitingDocuments && missing.isEmpty),
            "missing": .array(missing.map { .string($0.code) }),
            "limits": .object([
                "max_bytes": .number(Double(limits.maxBytes)),
                "max_files": .number(Double(limits.perClaim)),
                "content_types": .array(DocumentContentType.allCases.map { .string($0.mediaType) }),
            ]),
            "slots": .array(
                slots.documents.map { slot in
                    .object([
                        "code": .string(slot.code), "title": .string(slot.title), "hint": .optional(slot.hint),
                        "required": .bool(slot.required),
                        "documents": .array(documents.filter { $0.fieldName == slot.code }.map(make)),
                    ])
                }),
            "documents": .array(documents.map(make)),
        ])
    }
}
