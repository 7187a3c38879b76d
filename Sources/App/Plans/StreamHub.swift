import AppCore
import FoundationEssentials
import HTTPServer
import Synchronization

/// The plan streams this process holds, by session token; fans validated outcomes out to them in memory and
/// ends the ones whose deadline passed.
///
/// A stream is registered BEFORE the stored outcome is read (see ``PlanStreamRoutes``): outcomes that arrive in
/// between are buffered by the listener and de-duplicated by its state machine, so none is missed or sent twice.
final class StreamHub: Sendable {
    /// One open (or opening) stream.
    final class Listener: Sendable {
        enum Phase {
            /// Registered, opening decision not made yet: outcomes are buffered.
            case registering(buffer: [(submissionID: String, outcome: PlanRecord.Outcome)])
            case open(PlanStreamStateMachine)
            case closed
        }

        let token: String
        let submissionID: String
        let deadline: Date
        let stream: ResponseStream
        private let phase = Mutex<Phase>(.registering(buffer: []))
        /// Whether the stream opened (200), and the terminal event it was sent, if any.
        private let ending = Mutex<(opened: Bool, terminal: String?)>((false, nil))

        init(token: String, submissionID: String, deadline: Date, stream: ResponseStream) {
            self.token = token
            self.submissionID = submissionID
            self.deadline = deadline
            self.stream = stream
        }

        /// Makes the opening decision from what was stored, then applies anything buffered meanwhile.
        func open(lastEventID: String?, stored: PlanRecord.Outcome?, now: Date) -> PlanStreamStateMachine.Opening {
            let (opening, late) = phase.withLock { phase -> (PlanStreamStateMachine.Opening, ServerSentEvent?) in
                guard case .registering(let buffer) = phase else { return (.noContent, nil) }
                var machine = PlanStreamStateMachine(
                    submissionID: submissionID, lastEventID: lastEventID, stored: stored,
                    deadlinePassed: now >= deadline)
                var late: ServerSentEvent?
                for item in buffer {
                    if case .sendAndFinish(let event) = machine.received(item.outcome, for: item.submissionID) {
                        late = event
                    }
                }
                phase = machine.state == .finished ? .closed : .open(machine)
                return (machine.opening, late)
            }
            // An outcome that arrived while registering but was not yet stored when read: send it as the opening.
            var result = opening
            if let late, case .stream(let events, _) = opening, events.isEmpty {
                result = .stream(events: [late], finish: true)
            }
            if case .stream(let events, let finish) = result {
                ending.withLock { $0 = (true, finish ? events.last?.event : nil) }
            }
            return result
        }

        /// The `reason` label of `clpr_plan_streams_ended_total` (nil when the stream never opened): the terminal
        /// event sent, or `client_gone` when it closed without one (the client left, or the server shut down).
        var endReason: String? {
            let (opened, terminal) = ending.withLock { $0 }
            guard opened else { return nil }
            switch terminal {
            case PlanStreamEvent.ready: return "delivered"
            case PlanStreamEvent.error: return "error"
            case PlanStreamEvent.timeout: return "timeout"
            default: return "client_gone"
            }
        }

        /// An outcome for this token arrived; true if the stream is finished afterwards.
        func deliver(_ outcome: PlanRecord.Outcome, submissionID: String) {
            let event = phase.withLock { phase -> ServerSentEvent? in
                switch phase {
                case .registering(var buffer):
                    buffer.append((submissionID, outcome))
                    phase = .registering(buffer: buffer)
                    return nil
                case .open(var machine):
                    guard case .sendAndFinish(let event) = machine.received(outcome, for: submissionID) else {
                        return nil
                    }
                    phase = .closed
                    return event
                case .closed:
                    return nil
                }
            }
            if let event { send(event) }
        }

        /// Sends the timeout if the deadline passed while still waiting.
        func expireIfDue(now: Date) {
            guard now >= deadline else { return }
            let event = phase.withLock { phase -> ServerSentEvent? in
                guard case .open(var machine) = phase, case .sendAndFinish(let event) = machine.deadlineReached()
                else { return nil }
                phase = .closed
                return event
            }
            if let event { send(event) }
        }

        func markClosed() { phase.withLock { $0 = .closed } }

        private func send(_ event: ServerSentEvent) {
            ending.withLock { $0.terminal = event.event }
            stream.write(event.bytes)
            stream.finish()
        }
    }

    struct Registry {
        var byToken: [String: [ObjectIdentifier: Listener]] = [:]
        var count = 0
        /// No registered stream's deadline is earlier (it may be later: removals do not update it), so sweeps
        /// before it have nothing to do.
        var earliestDeadline = Date.distantFuture
    }

    private let listeners = Mutex(Registry())
    /// `clpr_plan_streams_ended_total{reason}`, counted when an opened stream leaves the hub; nil: not counted.
    private let ended: Counter?

    init(ended: Counter? = nil) {
        self.ended = ended
    }

    /// Registers `clpr_plan_streams_ended_total{reason}` in `metrics`.
    static func endedCounter(in metrics: Metrics) -> Counter {
        metrics.counter(
            "clpr_plan_streams_ended_total",
            help: "Plan streams ended, by reason (delivered|error|timeout|client_gone).", labels: ["reason"])
    }

    /// Streams registered right now.
    var count: Int { listeners.withLock { $0.count } }

    /// Registers `listener` unless `limit` streams are registered already.
    /// - Returns: false (nothing registered) at the limit.
    @discardableResult
    func register(_ listener: Listener, limit: Int = .max) -> Bool {
        listeners.withLock { registry in
            guard registry.count < limit else { return false }
            let previous = registry.byToken[listener.token, default: [:]].updateValue(
                listener, forKey: ObjectIdentifier(listener))
            if previous == nil { registry.count += 1 }
            registry.earliestDeadline = min(registry.earliestDeadline, listener.deadline)
            return true
        }
    }

    func remove(_ listener: Listener) {
        listener.markClosed()
        let removed = listeners.withLock { registry -> Bool in
            guard registry.byToken[listener.token]?.removeValue(forKey: ObjectIdentifier(listener)) != nil else {
                return false
            }
            registry.count -= 1
            if registry.byToken[listener.token]?.isEmpty == true { registry.byToken[listener.token] = nil }
            return true
        }
        if removed, let reason = listener.endReason { ended?.increment([reason]) }
    }

    /// True if this instance holds a stream for `token`.
    func hasListeners(token: String) -> Bool { listeners.withLock { $0.byToken[token] != nil } }

    /// Hands an outcome to every stream of `token` on this instance.
    func deliver(token: String, submissionID: String, outcome: PlanRecord.Outcome) {
        let targets = listeners.withLock { Array(($0.byToken[token] ?? [:]).values) }
        for listener in targets { listener.deliver(outcome, submissionID: submissionID) }
    }

    /// Checks every stream's deadline; called periodically by ``run(interval:)``.
    func expireDue(now: Date = Date()) {
        // Most sweeps find nothing due: they return without walking the streams.
        let due = listeners.withLock { registry -> [Listener] in
            guard now >= registry.earliestDeadline else { return [] }
            var due: [Listener] = []
            var earliest = Date.distantFuture
            for listener in registry.byToken.values.lazy.flatMap(\.values) {
                if now >= listener.deadline {
                    due.append(listener)
                } else {
                    earliest = min(earliest, listener.deadline)
                }
            }
            registry.earliestDeadline = earliest
            return due
        }
        for listener in due { listener.expireIfDue(now: now) }
    }

    /// Sweeps deadlines until cancelled: one timer for all streams instead of one per stream.
    func run(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            expireDue()
        }
    }
}
