/// A failure talking to Redis: connecting, a command Redis refused, or a connection that broke.
///
/// Compared by ``code`` only. ``description`` names the operation and hiredis's reason, never a password.
public struct RedisError: Error, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case connect, io, protocolError, commandFailed, closed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The TCP connection (or AUTH/SELECT right after it) failed.
        public static let connect = Code(.connect)
        /// The connection broke while reading or writing (Redis restarted, network, timeout).
        public static let io = Code(.io)
        /// Redis answered something hiredis could not parse, or a reply of an unexpected shape.
        public static let protocolError = Code(.protocolError)
        /// Redis answered the command with an error reply (`-ERR …`).
        public static let commandFailed = Code(.commandFailed)
        /// The bus was shut down.
        public static let closed = Code(.closed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// What was being done (`connect 127.0.0.1:6379`, `PUBLISH`).
    public var operation: String
    /// hiredis's `errstr`, or Redis's error reply.
    public var reason: String
    public var file: String
    public var line: Int

    init(_ code: Code, _ operation: String, reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.operation = operation
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { "redis \(operation) failed (\(code)): \(reason)" }
    public var debugDescription: String { "RedisError(\(code), \(operation): \(reason)) at \(file):\(line)" }

    public static func == (lhs: RedisError, rhs: RedisError) -> Bool { lhs.code == rhs.code }
}
