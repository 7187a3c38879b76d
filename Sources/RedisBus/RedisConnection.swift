import CHiredis

#if canImport(Glibc)
    import Glibc
#endif

/// A reply of the synchronous API, copied out of hiredis's `redisReply` (which is freed at once).
enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case error(String)
    case integer(Int)
    case array([RedisReply])
    case null

    /// Copies `reply` (not freed here).
    init(_ reply: UnsafePointer<redisReply>) {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STRING: self = .string(Self.bytes(value.str, value.len))
        case REDIS_REPLY_STATUS: self = .status(String(decoding: Self.bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_ERROR: self = .error(String(decoding: Self.bytes(value.str, value.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER: self = .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { items.append(RedisReply(element)) } else { items.append(.null) }
            }
            self = .array(items)
        default: self = .null
        }
    }

    static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// One synchronous hiredis connection. Not thread-safe: one thread uses it at a time (the subscriber's thread, or
/// the publisher while holding its lock); ``close()`` must be called before it is dropped.
final class RedisConnection {
    private var context: UnsafeMutablePointer<redisContext>?
    let endpoint: String

    /// Connects, authenticates and selects the database.
    /// - Parameter readTimeout: blocking reads give up after this long (nil: wait forever, for the subscriber).
    /// - Throws: ``RedisError`` `.connect` (the connection is not kept).
    init(_ configuration: RedisPlanBus.Configuration, readTimeout: Duration?) throws(RedisError) {
        endpoint = "\(configuration.host):\(configuration.port)"
        let connectTimeout = Self.timeval(configuration.connectTimeout)
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), connectTimeout)
        else { throw RedisError(.connect, "connect \(endpoint)", reason: "out of memory") }
        self.context = context
        do {
            try check("connect \(endpoint)", code: .connect)
            _ = redisEnableKeepAlive(context)
            if let readTimeout { _ = redisSetTimeout(context, Self.timeval(readTimeout)) }
            if let password = configuration.password {
                var arguments = ["AUTH"]
                if let user = configuration.user { arguments.append(user) }
                arguments.append(password)
                // The reply names no secret; the operation string must not either.
                _ = try command(arguments.map { Array($0.utf8) }, operation: "AUTH")
            }
            if configuration.database != 0 {
                _ = try command(
                    [Array("SELECT".utf8), Array(String(configuration.database).utf8)], operation: "SELECT")
            }
        } catch {
            close()
            throw RedisError(.connect, "connect \(endpoint)", reason: error.reason)
        }
    }

    deinit { assert(context == nil, "RedisConnection dropped without close()") }

    /// The socket, for shutting it down from another thread to wake a blocked read.
    var fileDescriptor: Int32? { context.map { $0.pointee.fd } }

    /// Sends one command (`redisCommandArgv`) and reads its reply.
    /// - Throws: ``RedisError`` `.io` when the connection broke, `.commandFailed` for an error reply.
    func command(_ arguments: [[UInt8]], operation: String) throws(RedisError) -> RedisReply {
        guard let context else { throw RedisError(.closed, operation, reason: "connection closed") }
        let raw = Self.withArgv(arguments) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        guard let raw else {
            try check(operation, code: .io)
            throw RedisError(.io, operation, reason: "no reply")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        let copied = RedisReply(reply)
        if case .error(let text) = copied { throw RedisError(.commandFailed, operation, reason: text) }
        return copied
    }

    /// Blocks until the next reply (a pub/sub push) and hands the raw reply to `body` before freeing it.
    /// - Throws: ``RedisError`` `.io` when the connection broke or was shut down.
    func nextReply<Result>(_ body: (UnsafePointer<redisReply>) -> Result) throws(RedisError) -> Result {
        guard let context else { throw RedisError(.closed, "read", reason: "connection closed") }
        var raw: UnsafeMutableRawPointer?
        let status = redisGetReply(context, &raw)
        guard status == REDIS_OK, let raw else {
            try check("read", code: .io)
            throw RedisError(.io, "read", reason: "no reply")
        }
        defer { freeReplyObject(raw) }
        return body(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Frees the connection; harmless twice.
    func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// The funnel for hiredis's `err`/`errstr`: throws if the context carries an error.
    private func check(_ operation: String, code: RedisError.Code) throws(RedisError) {
        guard let context, context.pointee.err != 0 else { return }
        let reason = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        throw RedisError(code, operation, reason: reason.isEmpty ? "error \(context.pointee.err)" : reason)
    }

    /// Lends `arguments` as hiredis's `argc`, `argv`, `argvlen` (binary-safe: lengths, not NUL terminators).
    private static func withArgv<Result>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        let buffers = arguments.map { argument -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, argument.count))
            argument.withUnsafeBytes { source in
                if let base = source.baseAddress {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: argument.count)
                }
            }
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0) }
        let lengths = arguments.map(\.count)
        return argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                body(Int32(arguments.count), argvBuffer.baseAddress!, lengthBuffer.baseAddress!)
            }
        }
    }

    static func timeval(_ duration: Duration) -> Glibc.timeval {
        let micros = max(1000, Int(duration / .microseconds(1)))
        return Glibc.timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
    }
}
