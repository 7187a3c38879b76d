import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A structured logger with swift-log's surface (`label`, `logLevel`, metadata subscript, `debug/info/…`).
///
/// Library code never creates one: it is passed in (through `init` for long-lived services). Each entry is
/// handed to a ``LogHandler``; the default handler writes one JSON object per line to standard error.
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CustomStringConvertible {
        case trace, debug, info, notice, warning, error, critical

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .notice: "notice"
            case .warning: "warning"
            case .error: "error"
            case .critical: "critical"
            }
        }

        /// Parses `trace`…`critical`; nil for anything else.
        public init?(name: String) {
            let all: [Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
            guard let level = all.first(where: { $0.description == name.lowercased() }) else { return nil }
            self = level
        }
    }

    public typealias Metadata = [String: String]

    public let label: String
    public var logLevel: Level
    public var metadata: Metadata
    private let handler: any LogHandler

    /// - Parameters:
    ///   - label: names the component (`clpr.http`, `clpr.planner`).
    ///   - logLevel: entries below it are dropped. Default `.info`.
    ///   - handler: where entries go. Default: JSON lines on standard error.
    public init(label: String, logLevel: Level = .info, handler: any LogHandler = StandardErrorLogHandler.shared) {
        self.label = label
        self.logLevel = logLevel
        self.metadata = [:]
        self.handler = handler
    }

    public subscript(metadataKey key: String) -> String? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// A copy of this logger with another label (same level, handler and metadata).
    public func with(label: String) -> Logger {
        var copy = Logger(label: label, logLevel: logLevel, handler: handler)
        copy.metadata = metadata
        return copy
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String, metadata extra: Metadata = [:]) {
        guard level >= logLevel else { return }
        var all = metadata
        for (key, value) in extra { all[key] = value }
        handler.write(LogEntry(label: label, level: level, message: message(), metadata: all))
    }

    public func trace(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.trace, message(), metadata: metadata)
    }
    public func debug(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.debug, message(), metadata: metadata)
    }
    public func info(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.info, message(), metadata: metadata)
    }
    public func notice(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.notice, message(), metadata: metadata)
    }
    public func warning(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.warning, message(), metadata: metadata)
    }
    public func error(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.error, message(), metadata: metadata)
    }
    public func critical(_ message: @autoclosure () -> String, metadata: Metadata = [:]) {
        log(.critical, message(), metadata: metadata)
    }
}

/// One log entry as handed to a ``LogHandler``.
public struct LogEntry: Sendable, Equatable {
    public var label: String
    public var level: Logger.Level
    public var message: String
    public var metadata: Logger.Metadata
}

/// Receives log entries. Implementations must be thread-safe: entries arrive from any thread.
public protocol LogHandler: Sendable {
    func write(_ entry: LogEntry)
}

/// Writes each entry as one JSON object per line to standard error (fd 2), in a single `write(2)` call.
public final class StandardErrorLogHandler: LogHandler {
    public static let shared = StandardErrorLogHandler()

    public func write(_ entry: LogEntry) {
        var line = "{\"ts\":\(JSONText.quote(Timestamp.nowISO8601()))"
        line += ",\"level\":\(JSONText.quote(entry.level.description))"
        line += ",\"logger\":\(JSONText.quote(entry.label))"
        line += ",\"msg\":\(JSONText.quote(entry.message))"
        for key in entry.metadata.keys.sorted() {
            line += ",\(JSONText.quote(key)):\(JSONText.quote(entry.metadata[key]!))"
        }
        line += "}\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            _ = Glibc.write(2, buffer.baseAddress, buffer.count)
        }
    }
}

/// Keeps entries in memory; tests read them back to assert what was (or was not) logged.
public final class InMemoryLogHandler: LogHandler {
    private let entriesBox = Mutex<[LogEntry]>([])

    public init() {}

    public func write(_ entry: LogEntry) {
        entriesBox.withLock { $0.append(entry) }
    }

    public var entries: [LogEntry] { entriesBox.withLock { $0 } }
}

/// JSON string literals without Foundation: log lines, small hand-built bodies, SSE event data.
public enum JSONText {
    /// `text` as a quoted, escaped JSON string.
    /// - Parameter escapingHTML: also writes `<` as `\u003c`, so the literal stays inert if it ever lands
    ///   inside an HTML page or `<script>` (no `</script>` break-out).
    public static func quote(_ text: String, escapingHTML: Bool = false) -> String {
        var text = text
        // `withUTF8` makes a bridged or lazy string contiguous once; native strings are read in place.
        let clean = text.withUTF8 { bytes in !bytes.contains(where: { needsEscape($0, escapingHTML: escapingHTML) }) }
        if clean { return "\"" + text + "\"" }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        text.withUTF8 { appendQuoted($0, to: &out, escapingHTML: escapingHTML) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text` as a quoted, escaped JSON string to `out` (what ``quote(_:escapingHTML:)`` returns, as bytes).
    public static func appendQuoted(_ text: String, to out: inout [UInt8], escapingHTML: Bool = false) {
        var text = text
        text.withUTF8 { appendQuoted($0, to: &out, escapingHTML: escapingHTML) }
    }

    // Works on UTF-8 bytes: every byte that needs escaping is ASCII, and multi-byte sequences never contain ASCII
    // bytes. Runs of bytes that need no escaping (most strings are one run) are copied whole.
    private static func appendQuoted(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], escapingHTML: Bool) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in bytes.indices where needsEscape(bytes[index], escapingHTML: escapingHTML) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            switch bytes[index] {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case UInt8(ascii: "\n"): out += #"\n"#.utf8
            case UInt8(ascii: "\r"): out += #"\r"#.utf8
            case UInt8(ascii: "\t"): out += #"\t"#.utf8
            case UInt8(ascii: "<"): out += #"\u003c"#.utf8
            default:
                let byte = bytes[index]
                out += #"\u00"#.utf8
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func needsEscape(_ byte: UInt8, escapingHTML: Bool) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            || (escapingHTML && byte == UInt8(ascii: "<"))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}

/// Wall-clock time stamps without Foundation.
public enum Timestamp {
    /// Now as `2026-12-03T14:05:09.123Z`.
    public static func nowISO8601() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let millis = Int32(spec.tv_nsec / 1_000_000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}
