import AppCore
import FoundationEssentials

/// The production planner: hands each submission to the n8n workflow through the outbox. The webhook body is
/// written in the submission's transaction; the dispatcher signs and sends it. The plan arrives later on the plan
/// bus (Redis `PUBLISH claim:plan:{session_token}`) or the signed callback.
struct N8NPlanner: Planner {
    /// The callback URL sent to the workflow (`{public URL}/api/v1/claim-plan/{token}`), when the public URL is
    /// known.
    let publicURL: String?
    let dispatcher: OutboxDispatcher

    /// One webhook call keyed by the submission id: a retry of the same revision (same id) re-arms a finished
    /// call instead of adding one, and never duplicates a pending one.
    func outboxMessages(for claim: Claim, submissionID: String) -> [OutboxMessage] {
        [
            OutboxMessage(
                kind: .planRequest, key: submissionID,
                body: Self.body(
                    for: claim, submissionID: submissionID,
                    publicURL: publicURL),
                resendWhenFinished: true)
        ]
    }

    func requestPlan(for claim: Claim, submissionID: String) async { dispatcher.nudge() }

    /// The webhook's JSON body (docs/n8n.md, "Request").
    static func body(for claim: Claim, submissionID: String, publicURL: String?) -> String {
        var object: [String: JSONValue] = [
            "version": .number(1),
            "claim_id": .string(claim.id),
            "session_token": .string(claim.sessionToken),
            "submission_id": .string(submissionID),
            "revision": .number(Double(claim.revision)),
            "type_code": .string(claim.typeCode),
            "answers": .object(claim.answers.mapValues(JSONValue.string)),
            "phone": .optional(claim.phone),
            "unified_id": .string(claim.unifiedID),
            "channel": .string(claim.channel.rawValue),
            "stream_channel": .string(PlanMessage.channel(for: claim.sessionToken)),
            "submitted_at": .optional(claim.submittedAt.map { $0.formatted(.iso8601) }),
        ]
        if let publicURL {
            let base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
            object["callback_url"] = .string(base + "/api/v1/claim-plan/" + claim.sessionToken)
        }
        return CompactJSON.encode(.object(object))
    }
}
