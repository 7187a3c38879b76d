import AppCore
import FoundationEssentials
import HTTPServer
import Logging
import Synchronization

/// Consumes every plan message from the bus: validates it, stores it (once per token + submission), then fans
/// it out to this instance's streams. Nothing reaches a browser without passing ``ClaimPlan/parse(_:sessionToken:)``.
struct PlanIntake: Sendable {
    let bus: any PlanBus
    let store: any ClaimStore
    let hub: StreamHub
    let logger: Logger
    /// `clpr_plans_total{outcome}`: one count per message, by ``Outcome/label``.
    let outcomes: Counter
    /// Telegram messages for people who chose not to wait (only with a bot configured).
    var notice: PlanReadyNotice? = nil

    /// The most of an invalid payload kept as a dead letter.
    static let maxDeadLetterBytes = 64 * 1024

    /// What the person is shown when the workflow's payload was not a usable plan.
    static let invalidPlan = PlanRecord.Outcome.failed(
        code: "invalid_plan", message: "Заявку не удалось подготовить. Попробуйте ещё раз.")

    /// The most messages stored in one transaction.
    static let maxBatch = 256

    /// Runs until the bus's message stream ends. Messages that arrive while a batch is being stored wait and are
    /// then stored together, one transaction per batch: under load the store's per-transaction cost is shared,
    /// when idle every message goes alone at once.
    func run() async {
        let inbox = MessageInbox()
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await message in bus.messages() { inbox.push(message) }
                inbox.finish()
            }
            while let batch = await inbox.next(max: Self.maxBatch) {
                await handle(batch: batch)
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

        /// The `outcome` label of `clpr_plans_total`.
        var label: String {
            switch self {
            case .stored: "stored"
            case .duplicate: "duplicate"
            case .unknownToken: "unknown_token"
            case .invalid: "invalid"
            }
        }
    }

    /// Registers `clpr_plans_total{outcome}` in `metrics`.
    static func outcomesCounter(in metrics: Metrics) -> Counter {
        metrics.counter(
            "clpr_plans_total", help: "Plan messages received, by outcome (stored|duplicate|invalid|unknown_token).",
            labels: ["outcome"])
    }

    /// One message on its own transaction (the HTTP callback's path; the bus's messages go in batches).
    @discardableResult
    func handle(_ message: PlanMessage) async throws -> Outcome {
        let prepared = try await prepare(message, receivedAt: Date())
        let invalid = prepared.invalid.map { Outcome.invalid(code: $0.code, message: $0.message) }
        guard let record = prepared.record else { return counted(invalid ?? .unknownToken) }
        let result = try await finish(record, try await store.storePlanRecord(record))
        return counted(Self.outcome(result, invalid: invalid))
    }

    /// No claim has the token: that is the answer, whatever else was wrong with the payload.
    private static func outcome(_ result: Outcome, invalid: Outcome?) -> Outcome {
        result == .unknownToken ? result : invalid ?? result
    }

    private func counted(_ outcome: Outcome) -> Outcome {
        outcomes.increment([outcome.label])
        return outcome
    }

    /// Several messages, stored in one transaction (one by one if the batch fails, so that one bad record
    /// cannot hold back the others).
    func handle(batch: [PlanMessage]) async {
        let now = Date()
        var records: [PlanRecord] = []
        var invalids: [Outcome?] = []
        records.reserveCapacity(batch.count)
        for message in batch {
            do {
                let prepared = try await prepare(message, receivedAt: now)
                let invalid = prepared.invalid.map { Outcome.invalid(code: $0.code, message: $0.message) }
                guard let record = prepared.record else {
                    _ = counted(invalid ?? .unknownToken)
                    continue
                }
                records.append(record)
                invalids.append(invalid)
            } catch {
                logger.error("plan message not processed", metadata: ["error": String(reflecting: error)])
            }
        }
        guard !records.isEmpty else { return }
        do {
            let results = try await store.storePlanRecords(records)
            var settled: [Outcome] = []
            for ((record, result), invalid) in zip(zip(records, results), invalids) {
                settled.append(Self.outcome(try await finish(record, result), invalid: invalid))
            }
            // Counted once the whole batch went through: the one-by-one fallback below counts its own.
            for outcome in settled { _ = counted(outcome) }
        } catch {
            logger.warning(
                "plan batch not stored, storing one by one",
                metadata: ["count": String(records.count), "error": String(reflecting: error)])
            for (record, invalid) in zip(records, invalids) {
                do {
                    let result = try await finish(record, try await store.storePlanRecord(record))
                    _ = counted(Self.outcome(result, invalid: invalid))
                } catch {
                    logger.error("plan message not processed", metadata: ["error": String(reflecting: error)])
                }
            }
        }
    }

    /// Validates `message` into what is stored: the plan, or the failure the waiting person is shown (with
    /// `invalid` saying why). No record when there is nothing to store (not a plan channel, or an unreadable
    /// payload for an unknown submission); an invalid payload is kept as a dead letter.
    private func prepare(
        _ message: PlanMessage, receivedAt now: Date
    ) async throws -> (record: PlanRecord?, invalid: (code: String, message: String)?) {
        guard let token = message.sessionToken else {
            try await store.storeDeadLetter(
                channel: String(message.channel.prefix(200)), payload: message.payload, reason: "not a plan channel",
                receivedAt: now)
            return (nil, ("invalid_channel", "not a plan channel"))
        }
        do {
            switch try ClaimPlan.parse(message.payload, sessionToken: token) {
            case .plan(let plan):
                let record = PlanRecord(
                    sessionToken: token, submissionID: plan.submissionID, outcome: .ready(planJSON: plan.jsonText()),
                    receivedAt: now, claimID: plan.claimID)
                return (record, nil)
            case .workflowError(let submissionID, let text):
                logger.warning("workflow reported an error", metadata: ["submission_id": submissionID, "error": text])
                let record = PlanRecord(
                    sessionToken: token, submissionID: submissionID,
                    outcome: .failed(
                        code: "workflow_error", message: "Не удалось подготовить заявку. Попробуйте ещё раз."),
                    receivedAt: now)
                return (record, nil)
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
            let invalid = (code: error.code, message: error.message)
            guard let submissionID else { return (nil, invalid) }
            let record = PlanRecord(
                sessionToken: token, submissionID: submissionID,
                outcome: Self.invalidPlan,
                receivedAt: now)
            return (record, invalid)
        }
    }

    /// Fans a stored record out to this instance's streams.
    private func finish(_ record: PlanRecord, _ result: PlanStoreResult) async throws -> Outcome {
        let token = record.sessionToken
        switch result {
        case .stored(let isCurrent):
            hub.deliver(token: token, submissionID: record.submissionID, outcome: record.outcome)
            if isCurrent, case .ready = record.outcome, let notice {
                await notice.planReady(sessionToken: token, submissionID: record.submissionID)
            }
            return .stored
        case .duplicate:
            // Another instance (every instance receives every message) or an earlier delivery stored it first.
            // Streams held here still need it: send them what is stored (their state machine drops repeats).
            logger.debug("duplicate plan not stored again", metadata: ["submission_id": record.submissionID])
            guard hub.hasListeners(token: token),
                let stored = try await store.planRecord(sessionToken: token, submissionID: record.submissionID)
            else { return .duplicate }
            hub.deliver(token: token, submissionID: stored.submissionID, outcome: stored.outcome)
            return .duplicate
        case .unknownToken:
            logger.warning(
                "plan for an unknown session token dropped", metadata: ["submission_id": record.submissionID])
            return .unknownToken
        case .claimMismatch:
            // A plan for another claim on this token's channel (a workflow mixing up its inputs): the person
            // waiting is told it failed rather than shown someone else's plan.
            logger.warning(
                "plan names another claim than its token's: refused", metadata: ["submission_id": record.submissionID])
            let failure = PlanRecord(
                sessionToken: token, submissionID: record.submissionID,
                outcome: Self.invalidPlan,
                receivedAt: record.receivedAt)
            _ = try await finish(failure, try await store.storePlanRecord(failure))
            return .invalid(code: "claim_mismatch", message: "`claim_id` is not the claim of the channel's token")
        }
    }
}

/// A hand-over point between the bus's reader and the intake that returns everything queued at once.
final class MessageInbox: Sendable {
    private struct State {
        var queued: [PlanMessage] = []
        var waiter: CheckedContinuation<[PlanMessage]?, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func push(_ message: PlanMessage) {
        let waiter = state.withLock { state -> CheckedContinuation<[PlanMessage]?, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.queued.append(message)
            return nil
        }
        waiter?.resume(returning: [message])
    }

    /// No more messages: ``next(max:)`` returns nil once the queue is empty.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[PlanMessage]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.queued.isEmpty ? state.waiter : nil
        }
        waiter?.resume(returning: nil)
    }

    /// Up to `max` queued messages, oldest first; waits while there are none. Nil once finished and empty.
    func next(max: Int) async -> [PlanMessage]? {
        await withCheckedContinuation { continuation in
            let batch = state.withLock { state -> [PlanMessage]?? in
                if !state.queued.isEmpty {
                    let count = min(max, state.queued.count)
                    defer { state.queued.removeFirst(count) }
                    return .some(Array(state.queued.prefix(count)))
                }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let batch { continuation.resume(returning: batch) }
        }
    }
}
