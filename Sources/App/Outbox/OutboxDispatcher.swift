import AppCore
import Crypto
import FoundationEssentials
import Logging
import Synchronization

/// Sends one kind of outbox item (a webhook); says how the attempt ended.
protocol OutboxSender: Sendable {
    var kind: OutboxKind { get }
    /// Whether a batch of this kind is sent one item at a time in enqueue order, holding the rest of the batch
    /// back after a failure (bot replies: a chat sees them in order). Default false: up to
    /// ``OutboxDispatcher/Configuration/concurrency`` at once.
    var sendsInOrder: Bool { get }
    func send(_ item: OutboxItem, timeout: Duration) async -> OutboxSendResult
}

extension OutboxSender {
    var sendsInOrder: Bool { false }
}

/// How one attempt ended.
enum OutboxSendResult: Sendable, Equatable {
    /// Done (a 2xx answer).
    case delivered
    /// Worth another attempt later (timeout, connection refused, 5xx, 429, …); the text is safe to log.
    case failed(String)
    /// Refused for good (the Bot API's 400/403: a blocked bot, a chat that is gone): dead at once, without
    /// retries; the text is safe to log.
    case refused(String)
}

/// Sends due outbox items: leases a batch per kind, sends a few at a time with a timeout each, records the end of
/// every attempt (sent, a retry with exponential backoff and jitter, or dead past the maximum age or when refused
/// for good).
///
/// Several instances may run one each: a lease (longer than the send timeout) makes each item sent by one
/// instance at a time, and a completion is recorded only by the lease holder. Dead items are logged at `error`
/// and listed by `clpr outbox --dead`.
final class OutboxDispatcher: Sendable {
    /// Timings and limits.
    struct Configuration: Sendable, Equatable {
        /// Per-request timeout, connecting included; at most 10 s. Default 10 s.
        var timeout: Duration = .seconds(10)
        /// How long a leased item stays with this instance beyond its send time
        /// (see ``OutboxDispatcher/leaseLength(inOrder:)``). Default 30 s.
        var lease: Duration = .seconds(30)
        /// How often the outbox is polled when nothing woke the dispatcher. Default 1 s.
        var pollInterval: Duration = .seconds(1)
        /// Items leased per round and kind. Default 32.
        var batchSize: Int = 32
        /// Requests in flight at once. Default 8.
        var concurrency: Int = 8
        /// Backoff, jitter and maximum age.
        var retry = OutboxRetryPolicy()
    }

    let configuration: Configuration
    let store: any OutboxStore
    let senders: [any OutboxSender]
    let logger: Logger
    /// This instance's lease owner name.
    let owner: String
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation
    private let counters = Mutex(Counters())

    /// What the dispatcher did since start (for `/readyz` and tests).
    struct Counters: Sendable, Equatable {
        var sent = 0
        var retried = 0
        var dead = 0
    }

    var counts: Counters { counters.withLock { $0 } }

    init(configuration: Configuration, store: any OutboxStore, senders: [any OutboxSender], logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.senders = senders
        self.logger = logger
        self.owner = "clpr-" + Crypto.randomToken(bytes: 9)
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a round now (something was just enqueued) instead of at the next poll.
    func nudge() { wakeContinuation.yield() }

    /// Runs rounds until the task is cancelled.
    func run() async {
        guard !senders.isEmpty else { return }
        logger.info(
            "outbox dispatcher started", metadata: ["kinds": senders.map(\.kind.rawValue).joined(separator: ",")])
        let interval = configuration.pollInterval
        let wakeContinuation = self.wakeContinuation
        // A ticker feeds the same wake stream, so one loop waits on "nudged or poll interval passed".
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                wakeContinuation.yield()
            }
        }
        defer { ticker.cancel() }
        var iterator = wake.makeAsyncIterator()
        while !Task.isCancelled {
            // Keep going while rounds find work; then wait to be woken.
            while !Task.isCancelled, await runRound() > 0 {}
            guard await iterator.next() != nil else { return }
        }
    }

    /// How long a round's lease lasts: ``Configuration/lease`` plus one timeout per wave of ``Configuration/concurrency``
    /// sends (per item when they are sent `inOrder`, one at a time), so the last item of a batch is still ours when
    /// its turn comes (no second sender meanwhile).
    func leaseLength(inOrder: Bool = false) -> Duration {
        let concurrency = inOrder ? 1 : max(1, configuration.concurrency)
        let waves = (max(1, configuration.batchSize) + concurrency - 1) / concurrency
        return configuration.lease + configuration.timeout * waves
    }

    /// One round: lease and send due items of every kind. - Returns: how many items were attempted.
    @discardableResult
    func runRound(now: Date = Date()) async -> Int {
        var attempted = 0
        for sender in senders {
            let items: [OutboxItem]
            do {
                items = try await store.leaseOutboxItems(
                    kind: sender.kind, now: now, limit: configuration.batchSize,
                    leaseUntil: now.adding(leaseLength(inOrder: sender.sendsInOrder)),
                    owner: owner)
            } catch {
                logger.error("outbox lease failed", metadata: ["error": String(reflecting: error)])
                continue
            }
            attempted += items.count
            if sender.sendsInOrder {
                await sendInOrder(items, with: sender)
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for item in items {
                    if inFlight >= configuration.concurrency {
                        await group.next()
                        inFlight -= 1
                    }
                    group.addTask { await self.attempt(item, with: sender) }
                    inFlight += 1
                }
            }
        }
        return attempted
    }

    /// Sends `items` one after another in enqueue order. After a failure the rest are not sent but rescheduled
    /// for the failed item's retry time, so the next round sends them after it again. (Refusals are per item and
    /// hold nothing back. Across rounds order is kept only among items due together.)
    private func sendInOrder(_ items: [OutboxItem], with sender: any OutboxSender) async {
        var heldBackUntil: Date?
        for item in items.sorted(by: { $0.id < $1.id }) {
            guard let until = heldBackUntil else {
                if case .retry(let at, _) = await attempt(item, with: sender) { heldBackUntil = at }
                continue
            }
            do {
                try await store.completeOutboxItem(
                    id: item.id, owner: owner, .retry(at: until, error: "held back behind an earlier failure"))
            } catch {
                // The lease runs out and the item is leased again.
                logger.error("outbox completion not recorded", metadata: ["error": String(reflecting: error)])
            }
        }
    }

    /// Sends one leased item and records how it ended. - Returns: the completion (recorded or not).
    @discardableResult
    private func attempt(_ item: OutboxItem, with sender: any OutboxSender) async -> OutboxCompletion {
        let result = await sender.send(item, timeout: min(configuration.timeout, .seconds(10)))
        let now = Date()
        let completion: OutboxCompletion
        switch result {
        case .delivered:
            completion = .sent(at: now)
        case .failed(let error):
            let jitter = Double(Crypto.randomBytes(2).withUnsafeBytes { $0.load(as: UInt16.self) }) / 65_535
            completion = configuration.retry.completion(for: item, error: error, now: now, jitter: jitter)
        case .refused(let error):
            completion = .dead(at: now, error: error)
        }
        let metadata: Logger.Metadata = [
            "outbox_id": String(item.id), "kind": item.kind.rawValue, "attempt": String(item.attempts),
        ]
        do {
            let recorded = try await store.completeOutboxItem(id: item.id, owner: owner, completion)
            guard recorded else {
                logger.warning("outbox lease lost before the attempt was recorded", metadata: metadata)
                return completion
            }
        } catch {
            // The lease runs out and the item is tried again: at-least-once, deduplicated downstream by its key.
            logger.error(
                "outbox completion not recorded",
                metadata: metadata.merging(["error": String(reflecting: error)]) { $1 })
            return completion
        }
        switch completion {
        case .sent:
            counters.withLock { $0.sent += 1 }
            logger.debug("outbox item sent", metadata: metadata)
        case .retry(let at, let error):
            counters.withLock { $0.retried += 1 }
            logger.warning(
                "outbox attempt failed, will retry",
                metadata: metadata.merging([
                    "error": error, "retry_in_ms": String(Int(at.timeIntervalSince(now) * 1000)),
                ]) { $1 })
        case .dead(_, let error):
            counters.withLock { $0.dead += 1 }
            if case .refused = result {
                // Expected in normal use (a person blocked the bot), so not an operator's error.
                logger.warning(
                    "outbox item dead: refused for good (see clpr outbox --dead)",
                    metadata: metadata.merging(["error": error]) { $1 })
            } else {
                logger.error(
                    "outbox item dead: gave up after its maximum age (see clpr outbox --dead)",
                    metadata: metadata.merging(["error": error]) { $1 })
            }
        }
        return completion
    }
}
