/// An error from starting or running the ``HTTPServer`` (not from a request handler).
///
/// Compare on ``code`` only: `error.code == .bindFailed`. ``description`` is safe to show; ``debugDescription``
/// adds the source location and libmicrohttpd's own message, for logs.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, extensible without breaking `switch`es elsewhere.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case bindFailed, invalidConfiguration, invalidState, libraryCall
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The listening socket could not be opened (port taken, address not local, permission).
        public static let bindFailed = Code(.bindFailed)
        /// A ``HTTPServer/Configuration`` value is out of range (for example a host that is not an IP literal).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// `start()` called twice, or after `shutdown()`.
        public static let invalidState = Code(.invalidState)
        /// A libmicrohttpd call failed.
        public static let libraryCall = Code(.libraryCall)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// A human-readable summary without secrets.
    public var message: String
    /// libmicrohttpd's last log line before the failure, when there was one.
    public var detail: String?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ message: String, detail: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.detail = detail
        self.file = file
        self.line = line
    }

    public var description: String { "HTTPServerError.\(code): \(message)" }

    public var debugDescription: String {
        var text = "HTTPServerError.\(code): \(message) [\(file):\(line)]"
        if let detail { text += " (libmicrohttpd: \(detail))" }
        return text
    }

    public static func == (lhs: HTTPServerError, rhs: HTTPServerError) -> Bool { lhs.code == rhs.code }
}
