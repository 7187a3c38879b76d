import AppCore
import FoundationEssentials
import HTTPServer
import Synchronization

/// The outbox's backlog for `/metrics` (`clpr_outbox_items{state}`, `clpr_outbox_oldest_pending_age_seconds`).
///
/// Read from the store when `/metrics` is scraped, at most once per ``interval`` (scrapes in between, from
/// several Prometheus servers or a dashboard, show the last reading), on the partial indexes of migration 8.
/// When the database does not answer, the last reading stays (the scrape still succeeds; `/readyz` reports the
/// database).
final class OutboxDepthGauge: Sendable {
    private struct Reading {
        var depth: OutboxDepth?
        var readAt: ContinuousClock.Instant?
    }

    let store: any OutboxStore
    let interval: Duration
    private let reading = Mutex(Reading())
    private let refreshing = Mutex(false)

    init(store: any OutboxStore, interval: Duration = .seconds(5)) {
        self.store = store
        self.interval = interval
    }

    /// Reads the store again if the last reading is older than ``interval`` (one reader at a time).
    func refresh() async {
        let clock = ContinuousClock()
        let due = reading.withLock { reading in
            reading.readAt.map { clock.now - $0 >= interval } ?? true
        }
        guard due else { return }
        let claimed = refreshing.withLock { busy -> Bool in
            if busy { return false }
            busy = true
            return true
        }
        guard claimed else { return }
        defer { refreshing.withLock { $0 = false } }
        guard let depth = try? await store.outboxDepth() else { return }
        reading.withLock { $0 = Reading(depth: depth, readAt: clock.now) }
    }

    /// The last reading (nil before the first successful one).
    var current: OutboxDepth? { reading.withLock { $0.depth } }

    /// Registers both gauges in `metrics`; they show nothing until the first successful reading.
    func register(in metrics: Metrics) {
        metrics.gauge("clpr_outbox_items", help: "Outbox items by state (pending: waiting to be sent; dead: given up).")
        { [self] in
            guard let depth = current else { return [] }
            return [
                .init(labels: [("state", "pending")], value: Double(depth.pending)),
                .init(labels: [("state", "dead")], value: Double(depth.dead)),
            ]
        }
        metrics.gauge(
            "clpr_outbox_oldest_pending_age_seconds", help: "Age of the oldest pending outbox item (0: none waits)."
        ) { [self] in
            guard let depth = current else { return [] }
            let age = depth.oldestPendingCreatedAt.map { max(0, Date().timeIntervalSince($0)) } ?? 0
            return [.init(value: age.rounded())]
        }
    }
}
