import AppCore
import CHiredis
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The plan bus over Redis pub/sub: what the workflow `PUBLISH`es on `claim:plan:{token}` reaches every instance.
///
/// Each instance keeps ONE subscriber connection that `PSUBSCRIBE`s `claim:plan:*` and blocks in `redisGetReply`
/// on a thread of its own (never on the cooperative pool), plus one command connection, opened on the first
/// ``publish(_:)`` only (the built-in planner; n8n publishes by itself). The number of Redis connections does not
/// depend on the number of streams. When the subscriber's connection breaks (Redis restarted), it reconnects
/// with exponential backoff and jitter and subscribes again; messages published while it was away are not replayed
/// by Redis, which is why plans are stored before they are streamed.
///
/// ```swift
/// let bus = RedisPlanBus(configuration: try .init(url: "redis://127.0.0.1:6379/0"), logger: logger)
/// bus.start()
/// for await message in bus.messages() { … }
/// await bus.shutdown()
/// ```
public final class RedisPlanBus: PlanBus {
    /// The pattern every instance subscribes to.
    public static let pattern = PlanMessage.channelPrefix + "*"

    enum Phase: Sendable, Equatable {
        case idle, connecting, subscribed, stopping, stopped
    }

    struct SubscriberState {
        var phase = Phase.idle
        /// The subscriber's socket while connected: shut down from ``shutdown()`` to wake the blocked read.
        var fileDescriptor: Int32?
        /// Times the subscriber connected after losing its connection.
        var reconnects = 0
        var threadRunning = false
    }

    public let configuration: Configuration
    let logger: Logger
    private let stream: AsyncStream<PlanMessage>
    private let continuation: AsyncStream<PlanMessage>.Continuation
    private let consumed = Mutex(false)
    private let subscriber = Mutex(SubscriberState())
    /// Wakes the subscriber's backoff sleep at shutdown.
    private let wake = DispatchSemaphore(value: 0)
    /// The command connection for ``publish(_:)``, opened lazily; only ever used while locked, on `publishQueue`.
    private let publisher = Mutex<RedisConnection?>(nil)
    private let publishQueue = DispatchQueue(label: "clpr.redis.publish")

    /// - Parameters:
    ///   - configuration: where Redis is; see ``Configuration/init(url:)``.
    ///   - logger: connects, reconnects and dropped messages are logged here.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: PlanMessage.self, bufferingPolicy: .unbounded)
    }

    // MARK: - PlanBus

    /// `PUBLISH claim:plan:{token} payload` on the command connection (on the bus's own queue). A connection that
    /// broke since the last call is replaced once.
    /// - Throws: ``RedisError``.
    public func publish(_ message: PlanMessage) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            publishQueue.async { [self] in
                do {
                    try publishNow(message)
                    done.resume()
                } catch {
                    done.resume(throwing: error)
                }
            }
        }
    }

    /// The single stream of messages from the subscriber. A second call is a programming error.
    public func messages() -> AsyncStream<PlanMessage> {
        let first = consumed.withLock { taken in
            defer { taken = true }
            return !taken
        }
        precondition(first, "RedisPlanBus.messages() has one consumer")
        return stream
    }

    // MARK: - Lifecycle

    /// Starts the subscriber thread. Returns at once: connecting is retried in the background (see
    /// ``isSubscribed``), so an instance can start while Redis is still coming up.
    public func start() {
        let begin = subscriber.withLock { state -> Bool in
            guard state.phase == .idle else { return false }
            state.phase = .connecting
            state.threadRunning = true
            return true
        }
        guard begin else { return }
        Self.detachThread { [self] in runSubscriber() }
    }

    /// True while the subscriber holds a live `PSUBSCRIBE` (readiness).
    public var isSubscribed: Bool { subscriber.withLock { $0.phase == .subscribed } }

    /// Times the subscriber had to reconnect since ``start()``.
    public var reconnectCount: Int { subscriber.withLock { $0.reconnects } }

    /// Stops the subscriber (its blocked read is woken by shutting the socket down), closes both connections and
    /// ends ``messages()``. Waits at most about 2 s for the thread.
    public func shutdown() async {
        let running = subscriber.withLock { state -> Bool in
            switch state.phase {
            case .idle, .stopped:
                state.phase = .stopped
            case .connecting, .subscribed, .stopping:
                state.phase = .stopping
                if let fd = state.fileDescriptor { Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
            }
            return state.threadRunning
        }
        if running {
            wake.signal()
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(2)
            while subscriber.withLock({ $0.threadRunning }), clock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        continuation.finish()
        publishQueue.async { [self] in
            publisher.withLock { connection in
                connection?.close()
                connection = nil
            }
        }
    }

    // MARK: - Publisher

    private func publishNow(_ message: PlanMessage) throws(RedisError) {
        if subscriber.withLock({ $0.phase == .stopped }) {
            throw RedisError(.closed, "PUBLISH", reason: "the bus was shut down")
        }
        let arguments = [Array("PUBLISH".utf8), Array(message.channel.utf8), message.payload]
        try publisher.withLock { (connection: inout RedisConnection?) throws(RedisError) in
            var attempts = 0
            while true {
                attempts += 1
                let reused = connection != nil
                do throws(RedisError) {
                    if connection == nil {
                        connection = try RedisConnection(configuration, readTimeout: configuration.publishTimeout)
                    }
                    _ = try connection!.command(arguments, operation: "PUBLISH")
                    return
                } catch {
                    if error.code != .commandFailed {
                        connection?.close()
                        connection = nil
                    }
                    // A cached connection may have died with a Redis restart: one fresh try.
                    guard reused, error.code == .io, attempts == 1 else { throw error }
                }
            }
        }
    }

    // MARK: - Subscriber (its own thread)

    private var isStopping: Bool { subscriber.withLock { $0.phase == .stopping || $0.phase == .stopped } }

    private func runSubscriber() {
        var delay = configuration.reconnectDelay
        var failures = 0
        var everSubscribed = false
        while !isStopping {
            do {
                try subscribeAndRead(afterFailures: failures, reconnect: everSubscribed) { everSubscribed = true }
            } catch {
                if isStopping { break }
                failures += 1
                subscriber.withLock { state in
                    if state.phase == .subscribed { state.phase = .connecting }
                }
                // Full jitter on half the delay: instances that lost Redis together do not return in lockstep.
                let wait = delay * Double.random(in: 0.5...1.0)
                let level: Logger.Level = failures == 1 || failures % 20 == 0 ? .warning : .debug
                logger.log(
                    level, "redis subscriber disconnected, reconnecting",
                    metadata: [
                        "error": error.description, "attempt": String(failures),
                        "retry_in_ms": String(Int(wait / .milliseconds(1))),
                    ])
                _ = wake.wait(timeout: .now() + .microseconds(Int(wait / .microseconds(1))))
                delay = min(delay * 2, configuration.maxReconnectDelay)
                continue
            }
        }
        subscriber.withLock { state in
            state.phase = .stopped
            state.threadRunning = false
            state.fileDescriptor = nil
        }
        continuation.finish()
        logger.info("redis subscriber stopped")
    }

    /// One connection's life: connect, `PSUBSCRIBE`, then read pushes until the connection breaks (throws).
    private func subscribeAndRead(
        afterFailures failures: Int, reconnect: Bool, subscribed: () -> Void
    ) throws(RedisError) {
        let connection = try RedisConnection(configuration, readTimeout: nil)
        defer {
            subscriber.withLock { $0.fileDescriptor = nil }
            connection.close()
        }
        let proceed = subscriber.withLock { state -> Bool in
            guard state.phase == .connecting else { return false }
            state.fileDescriptor = connection.fileDescriptor
            return true
        }
        guard proceed else { throw RedisError(.closed, "PSUBSCRIBE", reason: "shutting down") }
        let reply = try connection.command(
            [Array("PSUBSCRIBE".utf8), Array(Self.pattern.utf8)], operation: "PSUBSCRIBE")
        guard case .array(let items) = reply, items.first == .string(Array("psubscribe".utf8)) else {
            throw RedisError(.protocolError, "PSUBSCRIBE", reason: "unexpected confirmation")
        }
        subscriber.withLock { state in
            guard state.phase == .connecting else { return }
            state.phase = .subscribed
            if reconnect { state.reconnects += 1 }
        }
        subscribed()
        logger.notice(
            reconnect ? "redis subscriber reconnected" : "redis subscriber connected",
            metadata: [
                "redis": configuration.description, "pattern": Self.pattern, "failed_attempts": String(failures),
            ])
        while true {
            let message = try connection.nextReply { reply in self.message(from: reply) }
            if let message { continuation.yield(message) }
        }
    }

    /// A `["pmessage", pattern, channel, payload]` push as a ``PlanMessage``; nil for anything else.
    private func message(from reply: UnsafePointer<redisReply>) -> PlanMessage? {
        let value = reply.pointee
        guard value.type == REDIS_REPLY_ARRAY, value.elements == 4,
            let kind = value.element[0], kind.pointee.type == REDIS_REPLY_STRING,
            RedisReply.bytes(kind.pointee.str, kind.pointee.len) == Array("pmessage".utf8),
            let channel = value.element[2], let payload = value.element[3],
            payload.pointee.type == REDIS_REPLY_STRING
        else {
            logger.debug("redis push ignored", metadata: ["type": String(value.type)])
            return nil
        }
        let name = String(decoding: RedisReply.bytes(channel.pointee.str, min(channel.pointee.len, 512)), as: UTF8.self)
        var size = payload.pointee.len
        if size > configuration.maxMessageBytes {
            logger.warning(
                "plan message over the size limit cut short for the intake",
                metadata: ["bytes": String(size), "limit": String(configuration.maxMessageBytes)])
            size = configuration.maxMessageBytes
        }
        return PlanMessage(channel: name, payload: RedisReply.bytes(payload.pointee.str, size))
    }

    // MARK: - Threads

    private final class ThreadBody {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread (blocking reads must not occupy a cooperative-pool thread).
    private static func detachThread(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            }, context)
        precondition(created == 0, "pthread_create failed: \(created)")
        pthread_detach(thread)
    }
}
