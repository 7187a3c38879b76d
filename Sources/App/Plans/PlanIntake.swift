import AppCore
import FoundationEssentials
import Logging

/// Consumes every plan message from the bus: validates it, stores it (once per token + submission), then fans
/// it out to this instance's streams. Nothing reaches a browser without passing ``ClaimPlan/parse(_:sessionToken:)``.
struct PlanIntake: Sendable {
    let bus: any PlanBus
    let store: any ClaimStore
    let hub: StreamHub
    let logger: Logger

    /// The most of an invalid payload kept as a dead letter.
    static let maxDeadLetterBytes = 64 * 1024

    /// Runs until the bus's message stream ends.
    func run() async {
        for await message in bus.messages() {
            do {
                try await handle(message)
            } catch {
                logger.error("plan message not processed", metadata: ["error": String(reflecting: error)])
            }
        }
    }

    func handle(_ message: PlanMessage) async throws {
        let now = Date()
        guard let token = message.sessionToken else {
            try await store.storeDeadLetter(
                channel: String(message.channel.prefix(200)), payload: message.payload, reason: "not a plan channel",
                receivedAt: now)
            return
        }
        let record: PlanRecord
        do {
            switch try ClaimPlan.parse(message.payload, sessionToken: token) {
            case .plan(let plan):
                record = PlanRecord(
                    sessionToken: token, submissionID: plan.submissionID, outcome: .ready(planJSON: plan.jsonText()),
                    receivedAt: now)
            case .workflowError(let submissionID, let text):
                logger.warning("workflow reported an error", metadata: ["submission_id": submissionID, "error": text])
                record = PlanRecord(
                    sessionToken: token, submissionID: submissionID,
                    outcome: .failed(
                        code: "workflow_error", message: "Не удалось подготовить заявку. Попробуйте ещё раз."),
                    receivedAt: now)
            }
        } catch {
            // A huge payload is kept only in part: enough to see what it was.
            try await store.storeDeadLetter(
                channel: message.channel, payload: Array(message.payload.prefix(Self.maxDeadLetterBytes)),
                reason: "\(error.code): \(error.message)", receivedAt: now)
            // Attribute the failure to the submission it names, or else to the claim's current one, so the
            // waiting person learns of it instead of waiting for the timeout.
            var submissionID = error.submissionID
            if submissionID == nil { submissionID = try await store.claim(sessionToken: token)?.submissionID }
            logger.warning(
                "invalid plan payload kept as dead letter",
                metadata: ["code": error.code, "reason": error.message, "bytes": String(message.payload.count)])
            guard let submissionID else { return }
            record = PlanRecord(
                sessionToken: token, submissionID: submissionID,
                outcome: .failed(code: "invalid_plan", message: "Заявку не удалось подготовить. Попробуйте ещё раз."),
                receivedAt: now)
        }
        switch try await store.storePlanRecord(record) {
        case .stored:
            hub.deliver(token: token, submissionID: record.submissionID, outcome: record.outcome)
        case .duplicate:
            // Another instance (every instance receives every message) or an earlier delivery stored it first.
            // Streams held here still need it: send them what is stored (their state machine drops repeats).
            logger.debug("duplicate plan not stored again", metadata: ["submission_id": record.submissionID])
            guard hub.hasListeners(token: token),
                let stored = try await store.planRecord(sessionToken: token, submissionID: record.submissionID)
            else { return }
            hub.deliver(token: token, submissionID: stored.submissionID, outcome: stored.outcome)
        case .unknownToken:
            logger.warning(
                "plan for an unknown session token dropped", metadata: ["bytes": String(message.payload.count)])
        }
    }
}
