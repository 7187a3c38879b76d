import Synchronization

/// A registry of metrics rendered in the Prometheus text exposition format (version 0.0.4), written by hand.
///
/// Counters and histograms are owned by the registry and updated under one small lock each; gauges (and counters
/// kept elsewhere, such as a dispatcher's own tallies) are read from a closure when ``render()`` runs. Label
/// values must come from small fixed sets (route patterns, status codes, outcomes), never from request data.
///
/// ```swift
/// let metrics = Metrics()
/// let plans = metrics.counter("clpr_plans_total", help: "Plans received", labels: ["outcome"])
/// plans.increment(["stored"])
/// metrics.gauge("clpr_plan_streams_open", help: "Open plan streams") { Double(hub.count) }
/// ```
public final class Metrics: Sendable {
    /// What ``render()`` writes for one metric name.
    enum Family: Sendable {
        case counter(Counter)
        case histogram(Histogram)
        case collected(name: String, help: String, type: String, samples: @Sendable () -> [Sample])
    }

    /// One value read from a closure: label values (in the family's label order) and the value.
    public struct Sample: Sendable {
        public var labels: [(name: String, value: String)]
        public var value: Double

        public init(labels: [(name: String, value: String)] = [], value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    private let families = Mutex<[Family]>([])

    public init() {}

    /// Registers and returns a counter.
    /// - Parameters:
    ///   - name: the metric name, ending in `_total` by convention.
    ///   - help: one line for `# HELP`.
    ///   - labels: the label names; every ``Counter/increment(_:by:)`` passes one value for each.
    public func counter(_ name: String, help: String, labels: [String] = []) -> Counter {
        let counter = Counter(name: name, help: help, labelNames: labels)
        families.withLock { $0.append(.counter(counter)) }
        return counter
    }

    /// Registers and returns a histogram.
    /// - Parameters:
    ///   - name: the metric name (`_bucket`, `_sum` and `_count` are appended).
    ///   - help: one line for `# HELP`.
    ///   - labels: the label names (`le` is added for buckets).
    ///   - buckets: upper bounds, ascending; `+Inf` is implied.
    public func histogram(
        _ name: String, help: String, labels: [String] = [], buckets: [Double] = Histogram.defaultBuckets
    ) -> Histogram {
        let histogram = Histogram(name: name, help: help, labelNames: labels, buckets: buckets.sorted())
        families.withLock { $0.append(.histogram(histogram)) }
        return histogram
    }

    /// Registers a gauge read from `samples` at every ``render()``.
    public func gauge(_ name: String, help: String, samples: @escaping @Sendable () -> [Sample]) {
        families.withLock { $0.append(.collected(name: name, help: help, type: "gauge", samples: samples)) }
    }

    /// Registers a gauge with one unlabelled value read from `value` at every ``render()``.
    public func gauge(_ name: String, help: String, value: @escaping @Sendable () -> Double) {
        gauge(name, help: help) { [Sample(value: value())] }
    }

    /// Registers a counter kept elsewhere (it must only grow), read from `samples` at every ``render()``.
    public func collectedCounter(_ name: String, help: String, samples: @escaping @Sendable () -> [Sample]) {
        families.withLock { $0.append(.collected(name: name, help: help, type: "counter", samples: samples)) }
    }

    /// Every metric in the text exposition format (`Content-Type: text/plain; version=0.0.4`).
    public func render() -> String {
        var out = ""
        for family in families.withLock({ $0 }) {
            switch family {
            case .counter(let counter):
                Self.header(&out, counter.name, counter.help, "counter")
                for (values, count) in counter.snapshot() {
                    out += counter.name + Self.labels(zip(counter.labelNames, values).map { ($0, $1) })
                    out += " \(count)\n"
                }
            case .histogram(let histogram):
                Self.header(&out, histogram.name, histogram.help, "histogram")
                for (values, series) in histogram.snapshot() {
                    let labels = zip(histogram.labelNames, values).map { ($0, $1) }
                    var cumulative: UInt64 = 0
                    for (bound, count) in zip(histogram.buckets, series.buckets) {
                        cumulative += count
                        out += histogram.name + "_bucket" + Self.labels(labels + [("le", Self.number(bound))])
                        out += " \(cumulative)\n"
                    }
                    out += histogram.name + "_bucket" + Self.labels(labels + [("le", "+Inf")]) + " \(series.count)\n"
                    out += histogram.name + "_sum" + Self.labels(labels) + " \(Self.number(series.sum))\n"
                    out += histogram.name + "_count" + Self.labels(labels) + " \(series.count)\n"
                }
            case .collected(let name, let help, let type, let samples):
                Self.header(&out, name, help, type)
                for sample in samples() {
                    out += name + Self.labels(sample.labels) + " \(Self.number(sample.value))\n"
                }
            }
        }
        return out
    }

    // MARK: - Text format

    private static func header(_ out: inout String, _ name: String, _ help: String, _ type: String) {
        out += "# HELP \(name) \(help.replacingBackslashesAndNewlines())\n# TYPE \(name) \(type)\n"
    }

    private static func labels(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0)=\"\(escape($1))\"" }.joined(separator: ",") + "}"
    }

    /// Label values escape `\`, `"` and newlines.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// `1.0` → `1`, `0.25` → `0.25`.
    static func number(_ value: Double) -> String {
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension String {
    fileprivate func replacingBackslashesAndNewlines() -> String {
        var result = ""
        for character in self {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}

// MARK: - Counter

/// A monotonically increasing count per label set.
public final class Counter: Sendable {
    public let name: String
    public let help: String
    public let labelNames: [String]
    private let values = Mutex<[[String]: UInt64]>([:])

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// Adds `amount` to the series named by `labelValues` (one per label name, in order).
    public func increment(_ labelValues: [String] = [], by amount: UInt64 = 1) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        values.withLock { $0[labelValues, default: 0] += amount }
    }

    /// The current value of one series (0 when never incremented).
    public func value(_ labelValues: [String] = []) -> UInt64 { values.withLock { $0[labelValues] ?? 0 } }

    /// Every series, sorted by label values (stable output).
    func snapshot() -> [([String], UInt64)] {
        values.withLock { Array($0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map { ($0.key, $0.value) }
    }
}

// MARK: - Histogram

/// Observations counted into buckets per label set, plus their sum and count.
public final class Histogram: Sendable {
    /// 1 ms to 10 s: request latencies from a cached answer to a slow database.
    public static let defaultBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Series: Sendable {
        /// Observations per bucket, not cumulative (rendering adds them up).
        var buckets: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    public let name: String
    public let help: String
    public let labelNames: [String]
    public let buckets: [Double]
    private let series = Mutex<[[String]: Series]>([:])

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets
    }

    /// Records one observation in the series named by `labelValues`.
    public func observe(_ value: Double, _ labelValues: [String] = []) {
        precondition(labelValues.count == labelNames.count, "\(name): wrong number of label values")
        let index = buckets.firstIndex { value <= $0 }
        series.withLock { all in
            var entry = all[labelValues] ?? Series(buckets: Array(repeating: 0, count: buckets.count))
            if let index { entry.buckets[index] += 1 }
            entry.sum += value
            entry.count += 1
            all[labelValues] = entry
        }
    }

    func snapshot() -> [([String], Series)] {
        series.withLock { Array($0) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }.map { ($0.key, $0.value) }
    }
}

// MARK: - HTTP

/// The server's request metrics: a count by route pattern, method and status, and a latency histogram by route.
///
/// The route label is the matched pattern (`/api/v1/claims/:claim_id`), or `unmatched` when no route bound the
/// path: a raw path never becomes a label, so the label set stays bounded and no id or token reaches it.
public struct HTTPMetrics: Sendable {
    public let requests: Counter
    public let duration: Histogram

    /// Registers `<prefix>_requests_total{route,method,status}` and
    /// `<prefix>_request_duration_seconds{route}` in `registry`.
    public init(registry: Metrics, prefix: String = "http") {
        requests = registry.counter(
            prefix + "_requests_total", help: "HTTP requests answered, by route pattern, method and status.",
            labels: ["route", "method", "status"])
        duration = registry.histogram(
            prefix + "_request_duration_seconds",
            help: "Time from request headers to response headers, by route pattern.", labels: ["route"])
    }

    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func record(route: String?, method: HTTPMethod, status: Int, seconds: Double) {
        let route = route ?? "unmatched"
        let method = Self.knownMethods.contains(method.rawValue) ? method.rawValue : "other"
        requests.increment([route, method, String(status)])
        duration.observe(seconds, [route])
    }
}
