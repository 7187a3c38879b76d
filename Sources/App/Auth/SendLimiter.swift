import FoundationEssentials
import Synchronization

/// Fixed-window counters (per phone, per client address) that cap how many login codes are sent.
///
/// Kept in the process: with several instances each one counts on its own, so the effective limit is the
/// configured one times the number of instances (the per-phone resend cooldown and the per-code attempt limit
/// are in the store and hold across instances).
final class SendLimiter: Sendable {
    private struct Window {
        var start: Date
        var count: Int
    }

    private let windows = Mutex<[String: Window]>([:])
    let window: Duration

    init(window: Duration) {
        self.window = window
    }

    /// Counts one send against every `(key, limit)` when none of them is exhausted.
    /// - Returns: nil when counted; otherwise the seconds until the fullest window reopens (nothing counted).
    func take(_ limits: [(key: String, limit: Int)], now: Date = Date()) -> Int? {
        let length = window.timeInterval
        return windows.withLock { windows in
            if windows.count > 50_000 {
                windows = windows.filter { now.timeIntervalSince($0.value.start) < length }
            }
            var wait: Double = 0
            for (key, limit) in limits {
                guard let current = windows[key], now.timeIntervalSince(current.start) < length else { continue }
                if current.count >= limit { wait = max(wait, length - now.timeIntervalSince(current.start)) }
            }
            guard wait == 0 else { return max(1, Int(wait.rounded(.up))) }
            for (key, _) in limits {
                if let current = windows[key], now.timeIntervalSince(current.start) < length {
                    windows[key]?.count = current.count + 1
                } else {
                    windows[key] = Window(start: now, count: 1)
                }
            }
            return nil
        }
    }
}
