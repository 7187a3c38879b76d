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

    /// What became of one message.
    enum Outcome: Sendable, Equatable {
        /// Stored for the first time and sent to this instance's streams.
        case stored
        /// Already stored (another delivery path, another instance, a workflow that ran twice): not stored again.
        case duplicate
        /// No claim has the channel's token.
        case unknownToken
        /// Failed validation: kept as a dead letter (and a `claim_plan_error` for the submission it names).
        case invalid(code: String, message: String)
    }

    @discardableResult
    func handle(_ message: PlanMessage) async throws -> Outcome {
        let now = Date()
        guard let token = message.sessionToken else {
            try await store.storeDeadLetter(
                channel: String(message.channel.prefix(200)), payload: message.payload, reason: "not a plan channel",
                receivedAt: now)
            return .invalid(code: "invalid_channel", message: "not a plan channel")
        }
        var invalid: (code: String, message: String)?
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
            invalid = (error.code, error.message)
            guard let submissionID else { return .invalid(code: error.code, message: error.message) }
            record = PlanRecord(
                sessionToken: token, submissionID: submissionID,
                outcome: .failed(code: "invalid_plan", message: "Заявку не удалось подготовить. Попробуйте ещё раз."),
                receivedAt: now)
        }
        switch try await store.storePlanRecord(record) {
        case .stored:
            hub.deliver(token: token, submissionID: record.submissionID, outcome: record.outcome)
            return invalid.map { .invalid(code: $0.code, message: $0.message) } ?? .stored
        case .duplicate:
            // Another instance (every instance receives every message) or an earlier delivery stored it first.
            // Streams held here still need it: send them what is stored (their state machine drops repeats).
            logger.debug("duplicate plan not stored again", metadata: ["submission_id": record.submissionID])
            let outcome: Outcome = invalid.map { .invalid(code: $0.code, message: $0.message) } ?? .duplicate
            guard hub.hasListeners(token: token),
                let stored = try await store.planRecord(sessionToken: token, submissionID: record.submissionID)
            else { return outcome }
            hub.deliver(token: token, submissionID: stored.submissionID, outcome: stored.outcome)
            return outcome
        case .unknownToken:
            logger.warning(
                "plan for an unknown session token dropped", metadata: ["bytes": String(message.payload.count)])
            return .unknownToken
        }
    }
}
