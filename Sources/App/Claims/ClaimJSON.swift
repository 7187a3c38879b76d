import AppCore
import FoundationEssentials

/// The API's view of a claim (docs/api.md, `Claim`).
enum ClaimJSON {
    static func make(_ claim: Claim, catalog: ClaimCatalog) -> JSONValue {
        var answers: [String: JSONValue] = [:]
        for (key, value) in claim.answers { answers[key] = .string(value) }
        let plan = claim.wizardPlan.map(JSONValue.init(jsonText:)) ?? .null
        var planSubmission: String?
        if case .object(let fields) = plan, case .string(let id)? = fields["submission_id"] { planSubmission = id }
        let streamURL: JSONValue =
            claim.submissionID == nil ? .null : .string("/api/v1/claim-plan/\(claim.sessionToken)")
        return .object([
            "claim_id": .string(claim.id),
            "type_code": .string(claim.typeCode),
            "type_title": .optional(catalog.type(claim.typeCode)?.title),
            "status": .string(claim.status.rawValue),
            "is_confirmed": .bool(claim.isConfirmed),
            "channel": .string(claim.channel.rawValue),
            "answers": .object(answers),
            "revision": .number(Double(claim.revision)),
            "session_token": .string(claim.sessionToken),
            "submission_id": .optional(claim.submissionID),
            "submitted_revision": claim.submittedRevision.map { .number(Double($0)) } ?? .null,
            // The plan may be confirmed only while it describes the current answers (see `isSubmissionCurrent`).
            "plan_is_current": .bool(claim.isSubmissionCurrent && planSubmission == claim.submissionID),
            "plan": plan,
            "stream_url": streamURL,
            "created_at": .string(iso(claim.createdAt)),
            "updated_at": .string(iso(claim.updatedAt)),
            "status_history": .array(
                claim.statusHistory.map { .object(["status": .string($0.status.rawValue), "at": .string(iso($0.at))]) }),
            "wizard_step": claim.wizardStep.map { .number(Double($0)) } ?? .null,
            "receipt": claim.consent.map(receipt) ?? .null,
        ])
    }

    /// The confirmation receipt (docs/api.md, "Confirmation receipt"): `document` is the exact text hashed.
    static func receipt(_ consent: ConsentRecord) -> JSONValue {
        .object([
            "sha256": .string(consent.receiptSHA256), "confirmed_at": .string(consent.confirmedAt),
            "language": .string(consent.language.rawValue), "submission_id": .string(consent.submissionID),
            "document": .string(consent.receipt),
        ])
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}
