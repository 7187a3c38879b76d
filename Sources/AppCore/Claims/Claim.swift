import FoundationEssentials

/// Where a claim stands. Raw values are the seed's `clpr_claims.status_code`.
public struct ClaimStatus: RawRepresentable, Hashable, Sendable, Codable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let draft = ClaimStatus(rawValue: "draft")
    public static let inWork = ClaimStatus(rawValue: "in_work")
}

/// One status change, kept in `payload.status_history`.
public struct StatusChange: Sendable, Equatable, Codable {
    public var status: ClaimStatus
    public var at: Date

    public init(status: ClaimStatus, at: Date) {
        self.status = status
        self.at = at
    }
}

/// A row of `clpr_claims` with its payload decoded.
///
/// Payload keys follow the seed (`phone`, `claim_id`, `wizard_plan`, `answers`, `documents_meta`); clpr adds
/// `status_history`. Submission bookkeeping lives in columns clpr adds (`revision`, `submission_id`, …).
public struct Claim: Sendable, Equatable {
    /// `clpr_claims.id`, a lowercase UUID; also `payload.claim_id`.
    public var id: String
    /// The wizard session's token: names the plan channel `claim:plan:{session_token}`.
    public var sessionToken: String
    public var unifiedID: String
    public var userID: Int64
    public var telegramID: Int64?
    public var channel: Channel
    public var typeCode: String
    public var status: ClaimStatus
    public var policyNumber: String?
    /// `payload.phone`, E.164.
    public var phone: String?
    /// `payload.answers`: question id → answer text.
    public var answers: [String: String]
    /// `payload.wizard_plan`: the plan of the current submission once it arrived (raw JSON object text).
    public var wizardPlan: String?
    /// `payload.documents_meta` (raw JSON array text).
    public var documentsMeta: String
    public var isConfirmed: Bool
    /// Bumped on every saved change of answers; autosave sends the revision it started from.
    public var revision: Int
    /// The current submission, once submitted.
    public var submissionID: String?
    /// The revision that submission was made from.
    public var submittedRevision: Int?
    public var submittedAt: Date?
    public var statusHistory: [StatusChange]
    public var createdAt: Date
    public var updatedAt: Date
    public var expiresAt: Date?
    /// `payload.wizard_step`: the wizard page the person was last on (1-based; one past the last page is the
    /// check-answers page), so that coming back on another device lands on the same step.
    public var wizardStep: Int? = nil
    /// `payload.consent`: the confirmation receipt, once the person confirmed.
    public var consent: ConsentRecord? = nil
    /// `payload.telegram_notice`: the person chose not to wait for the plan of this submission and asked for a
    /// Telegram message when it is ready. Cleared when the message is enqueued.
    public var telegramNotice: TelegramNotice? = nil

    public init(
        id: String, sessionToken: String, unifiedID: String, userID: Int64, telegramID: Int64? = nil,
        channel: Channel, typeCode: String, status: ClaimStatus = .draft, policyNumber: String? = nil,
        phone: String?, answers: [String: String] = [:], wizardPlan: String? = nil, documentsMeta: String = "[]",
        isConfirmed: Bool = false, revision: Int = 0, submissionID: String? = nil, submittedRevision: Int? = nil,
        submittedAt: Date? = nil, statusHistory: [StatusChange] = [], createdAt: Date, updatedAt: Date,
        expiresAt: Date? = nil
    ) {
        self.id = id
        self.sessionToken = sessionToken
        self.unifiedID = unifiedID
        self.userID = userID
        self.telegramID = telegramID
        self.channel = channel
        self.typeCode = typeCode
        self.status = status
        self.policyNumber = policyNumber
        self.phone = phone
        self.answers = answers
        self.wizardPlan = wizardPlan
        self.documentsMeta = documentsMeta
        self.isConfirmed = isConfirmed
        self.revision = revision
        self.submissionID = submissionID
        self.submittedRevision = submittedRevision
        self.submittedAt = submittedAt
        self.statusHistory = statusHistory
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
    }
}

extension Claim {
    /// Whether the current submission was made from the answers as they are now. Once a submitted draft is edited,
    /// its plan describes answers that no longer exist: it may be shown as history but never confirmed.
    public var isSubmissionCurrent: Bool {
        Self.isSubmissionCurrent(submissionID: submissionID, submittedRevision: submittedRevision, revision: revision)
    }

    /// ``isSubmissionCurrent`` from the three columns it depends on (for reads that do not load the whole claim).
    public static func isSubmissionCurrent(submissionID: String?, submittedRevision: Int?, revision: Int) -> Bool {
        submissionID != nil && submittedRevision == revision
    }
}

/// The part of a claim a plan stream checks before it opens: the owner, the expiry and the current submission.
public struct PlanStreamClaim: Sendable, Equatable {
    public var unifiedID: String
    public var expiresAt: Date?
    public var submissionID: String?
    public var submittedAt: Date?
    /// ``Claim/isSubmissionCurrent``.
    public var isSubmissionCurrent: Bool

    /// From the claim's columns; whether the submission is current is decided as for ``Claim``.
    public init(
        unifiedID: String, expiresAt: Date?, submissionID: String?, submittedAt: Date?, revision: Int,
        submittedRevision: Int?
    ) {
        self.unifiedID = unifiedID
        self.expiresAt = expiresAt
        self.submissionID = submissionID
        self.submittedAt = submittedAt
        isSubmissionCurrent = Claim.isSubmissionCurrent(
            submissionID: submissionID, submittedRevision: submittedRevision, revision: revision)
    }

    public init(_ claim: Claim) {
        self.init(
            unifiedID: claim.unifiedID, expiresAt: claim.expiresAt, submissionID: claim.submissionID,
            submittedAt: claim.submittedAt, revision: claim.revision, submittedRevision: claim.submittedRevision)
    }
}

/// The stored outcome of one submission: a valid plan, or a failure to show instead.
public struct PlanRecord: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The validated plan, as canonical JSON object text.
        case ready(planJSON: String)
        /// The workflow's payload failed validation or reported an error.
        case failed(code: String, message: String)
    }

    public var sessionToken: String
    public var submissionID: String
    public var outcome: Outcome
    public var receivedAt: Date
    /// The claim id the plan names; the store refuses the record (``PlanStoreResult/claimMismatch``) when the
    /// token belongs to another claim. Nil: not checked (failures name no claim).
    public var claimID: String?

    public init(
        sessionToken: String, submissionID: String, outcome: Outcome, receivedAt: Date, claimID: String? = nil
    ) {
        self.sessionToken = sessionToken
        self.submissionID = submissionID
        self.outcome = outcome
        self.receivedAt = receivedAt
        self.claimID = claimID
    }
}

/// What storing a plan record did.
public enum PlanStoreResult: Sendable, Equatable {
    /// First time this (token, submission) was recorded; `isCurrent` if it is the claim's current submission.
    case stored(isCurrent: Bool)
    /// Already recorded (a duplicate delivery): nothing changed.
    case duplicate
    /// No claim has this session token.
    case unknownToken
    /// The token's claim is not the one the record names: nothing stored.
    case claimMismatch
}
