import CMicroHTTPD
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 server on libmicrohttpd: epoll worker threads parse requests, handlers run as Swift tasks.
///
/// Each request's connection is suspended while its handler runs (handlers may wait on a database without
/// stalling a worker thread), then resumed to send the response. Stream responses (``ResponseStream``) leave
/// libmicrohttpd once their head is sent: their sockets are held by ``StreamSocketLoop``, which costs an idle stream
/// no CPU and no libmicrohttpd memory. ``shutdown()`` is graceful: it stops accepting, ends every stream, waits for
/// them, then stops the daemon.
///
/// ```swift
/// let server = HTTPServer(configuration: .init(port: 8080), router: router, logger: logger)
/// try server.start()
/// …
/// await server.shutdown()
/// ```
public final class HTTPServer: Sendable {
    /// How the server listens and what it tolerates. Every default is given in ``init(host:port:threadPoolSize:connectionLimit:connectionMemoryLimit:maxBodySize:connectionTimeout:heartbeatInterval:heartbeatBytes:shutdownTimeout:connectionsPerAddress:)``.
    public struct Configuration: Sendable {
        /// The IP literal to bind (IPv4 or IPv6). Default `"127.0.0.1"` (loopback only).
        public var host: String
        /// The TCP port; 0 picks a free one (read it back from ``HTTPServer/port``). Default 8080.
        public var port: UInt16
        /// libmicrohttpd event loops, each a daemon with its own thread, listening socket (`SO_REUSEPORT`: the
        /// kernel spreads new connections over them) and connections. Default 8. Handlers do not run on them,
        /// but libmicrohttpd 0.9.75 walks all of a daemon's suspended connections (requests whose handler runs)
        /// each time one is resumed, so that walk is as long as those connections divided by this number. One
        /// shared socket with a thread pool would wake every thread for each new connection instead.
        public var threadPoolSize: Int
        /// Connections libmicrohttpd holds at once: requests being read, handled or answered, and streams until
        /// their head is sent (an open stream's socket is then the server's own and does not count). Default 10 000.
        public var connectionLimit: Int
        /// Bytes of libmicrohttpd's memory pool per connection. It holds the request line and headers while they
        /// are read, and the send buffer. Default 16 KiB: request headers up to about 8 KB fit (larger ones are
        /// answered 431 by libmicrohttpd). An open stream does not keep it: it is freed when the stream's socket is
        /// taken over after the head.
        public var connectionMemoryLimit: Int
        /// The largest request body accepted; a larger `Content-Length` is answered 413 before `100 Continue`, and
        /// a chunked body growing past it closes the connection. Default 1 MiB.
        public var maxBodySize: Int
        /// An idle connection (keep-alive, or a client that stops reading) is closed after this long. Whole seconds.
        /// An open stream's socket is the server's own after the head, which this timeout does not count (see
        /// ``heartbeatInterval``). Default 60 s.
        public var connectionTimeout: Duration
        /// Connections one client address may hold at once, counted over every event loop; more are closed at
        /// once. 0: no limit. Default 0 (behind a proxy every connection comes from the proxy's address).
        public var connectionsPerAddress: Int
        /// How often every open stream gets ``heartbeatBytes``. A client that closes its end is noticed at once;
        /// the heartbeat finds one that vanished without a word (its send fails) or stopped reading (nothing of what
        /// is pending was taken since the previous heartbeat). Default 15 s.
        public var heartbeatInterval: Duration
        /// The heartbeat: an SSE comment by default, `": hb\n\n"`.
        public var heartbeatBytes: [UInt8]
        /// How long ``HTTPServer/shutdown()`` waits for streams and running handlers before answering the
        /// remaining handlers 503 and stopping. Default 3 s.
        public var shutdownTimeout: Duration

        public init(
            host: String = "127.0.0.1",
            port: UInt16 = 8080,
            threadPoolSize: Int = 8,
            connectionLimit: Int = 10_000,
            connectionMemoryLimit: Int = 16 * 1024,
            maxBodySize: Int = 1024 * 1024,
            connectionTimeout: Duration = .seconds(60),
            heartbeatInterval: Duration = .seconds(15),
            heartbeatBytes: [UInt8] = Array(": hb\n\n".utf8),
            shutdownTimeout: Duration = .seconds(3),
            connectionsPerAddress: Int = 0
        ) {
            self.connectionsPerAddress = connectionsPerAddress
            self.host = host
            self.port = port
            self.threadPoolSize = threadPoolSize
            self.connectionLimit = connectionLimit
            self.connectionMemoryLimit = connectionMemoryLimit
            self.maxBodySize = maxBodySize
            self.connectionTimeout = connectionTimeout
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatBytes = heartbeatBytes
            self.shutdownTimeout = shutdownTimeout
        }
    }

    struct Running: Sendable {
        /// One per event loop (``Configuration/threadPoolSize``), all on the same port.
        var daemons: [MHDDaemon]
        var port: UInt16
        var heartbeat: Task<Void, Never>
        /// The `struct cmhd_logger` handed to libmicrohttpd (freed after stop).
        var logSink: UInt
    }

    enum Phase: Sendable {
        case idle
        case running(Running)
        case stopping
        case stopped
    }

    public let configuration: Configuration
    let core: ServerCore
    let phase = Mutex(Phase.idle)

    /// - Parameters:
    ///   - configuration: where to listen and the limits.
    ///   - router: answers every request.
    ///   - logger: gets one `info` line per request and libmicrohttpd's own messages at `debug`.
    ///   - metrics: counts every answered request by route pattern, method and status, and times it; nil: none.
    public init(
        configuration: Configuration = Configuration(), router: Router, logger: Logger, metrics: HTTPMetrics? = nil
    ) {
        self.configuration = configuration
        self.core = ServerCore(configuration: configuration, router: router, logger: logger, metrics: metrics)
    }

    /// The port the server is bound to (useful with port 0), or 0 when not running.
    public var port: UInt16 {
        phase.withLock { phase in
            if case .running(let running) = phase { return running.port }
            return 0
        }
    }

    /// Streams currently being sent.
    public var openStreamCount: Int { core.openStreamCount }

    // MARK: - Start

    /// Binds and starts serving on libmicrohttpd's threads.
    /// - Throws: ``HTTPServerError`` `.bindFailed` when the address cannot be bound (port taken),
    ///   `.invalidConfiguration` for a host that is not an IP literal, `.invalidState` if already started.
    public func start() throws {
        try phase.withLock { (phase: inout Phase) throws(HTTPServerError) in
            guard case .idle = phase else { throw HTTPServerError(.invalidState, "the server was already started") }
            phase = .running(try startDaemon())
        }
        core.logger.info(
            "http server started", metadata: ["host": configuration.host, "port": String(self.port)])
    }

    private func startDaemon() throws(HTTPServerError) -> Running {
        let configuration = self.configuration
        guard configuration.threadPoolSize >= 1, configuration.connectionLimit >= 1,
            configuration.connectionMemoryLimit >= 4096, configuration.maxBodySize >= 0,
            configuration.connectionsPerAddress >= 0,
            configuration.heartbeatInterval > .zero
        else {
            throw HTTPServerError(.invalidConfiguration, "limits must be positive (memory limit at least 4096)")
        }
        var address = try SocketAddress(host: configuration.host, port: configuration.port)
        // The daemons share the port through `SO_REUSEPORT`, which would also let a second server join it
        // silently: a plain bind first makes a taken port an error, as it would be for a single socket.
        if configuration.port != 0, !address.isFree() {
            throw HTTPServerError(
                .bindFailed, "could not listen on \(configuration.host):\(configuration.port) (address already in use)")
        }

        var flags = MHD_USE_EPOLL_INTERNAL_THREAD.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
        flags |= MHD_USE_ERROR_LOG.rawValue  // routed to `logger` at debug level, never to stderr
        if address.isIPv6 { flags |= MHD_USE_IPv6.rawValue }
        let timeoutSeconds = max(1, Int(configuration.connectionTimeout.components.seconds))
        let loops = configuration.threadPoolSize
        // Each daemon counts only its own connections. The kernel spreads them by a hash of the addresses, evenly
        // on average but not exactly, and a daemon at its limit drops the connection, so each gets its share
        // plus a margin: the whole may exceed `connectionLimit` by that margin, never one daemon its share.
        let limitPerLoop =
            loops == 1 ? configuration.connectionLimit : configuration.connectionLimit * 5 / (4 * loops) + 16

        let streamLoop = try StreamSocketLoop(
            unacknowledgedTimeout: configuration.heartbeatInterval * 2 + .seconds(10))
        streamLoop.start()
        core.streamLoop.withLock { $0 = streamLoop }

        let coreRaw = Unmanaged.passRetained(core).toOpaque()
        let sink = UnsafeMutablePointer<cmhd_logger>.allocate(capacity: 1)
        sink.initialize(to: cmhd_logger(fn: mhdLogSink, cls: coreRaw))

        var daemons: [OpaquePointer] = []
        var port = configuration.port
        for _ in 0..<loops {
            address.setPort(port)
            let daemon = address.withSockAddr { sockaddr -> OpaquePointer? in
                var options: [MHD_OptionItem] = [
                    MHD_OptionItem(option: .SOCK_ADDR, value: 0, ptr_value: sockaddr),
                    MHD_OptionItem(option: .LISTENING_ADDRESS_REUSE, value: 1, ptr_value: nil),
                    MHD_OptionItem(option: .CONNECTION_LIMIT, value: limitPerLoop, ptr_value: nil),
                    MHD_OptionItem(
                        option: .CONNECTION_MEMORY_LIMIT, value: configuration.connectionMemoryLimit, ptr_value: nil),
                    MHD_OptionItem(option: .CONNECTION_TIMEOUT, value: timeoutSeconds, ptr_value: nil),
                    MHD_OptionItem(option: .END, value: 0, ptr_value: nil),
                ]
                // libmicrohttpd's own per-address limit counts per daemon; this one counts across all of them.
                let limitsAddresses = configuration.connectionsPerAddress > 0
                return options.withUnsafeMutableBufferPointer { buffer in
                    cmhd_start_daemon(
                        UInt32(flags), port, limitsAddresses ? mhdAcceptPolicy : nil, coreRaw, mhdAccessHandler,
                        coreRaw, mhdRequestCompleted, coreRaw, limitsAddresses ? mhdNotifyConnection : nil, coreRaw,
                        sink, buffer.baseAddress)
                }
            }
            guard let daemon else {
                let failure = errno
                for started in daemons { MHD_stop_daemon(started) }
                core.streamLoop.withLock { $0 = nil }
                streamLoop.stop()
                Unmanaged<ServerCore>.fromOpaque(coreRaw).release()
                sink.deinitialize(count: 1)
                sink.deallocate()
                let detail = core.state.withLock { $0.lastLibraryMessage }
                let reason = failure == EADDRINUSE ? " (address already in use)" : ""
                throw HTTPServerError(
                    .bindFailed, "could not listen on \(configuration.host):\(configuration.port)\(reason)",
                    detail: detail)
            }
            daemons.append(daemon)
            // Port 0: the first daemon picked a free port; the others join it.
            port = cmhd_daemon_port(daemon)
        }

        let interval = configuration.heartbeatInterval
        let heartbeatBytes = configuration.heartbeatBytes
        let core = self.core
        // The heartbeat is spread over the interval: every tick serves one slice of the streams, so 10,000 streams
        // never get their heartbeats in one burst (which delayed real events behind it), and each stream still
        // gets one every `interval`.
        let slices = ServerCore.heartbeatSlices
        let heartbeat = Task.detached {
            // Ticks at fixed points in time, so the slices do not drift apart from the interval.
            let clock = ContinuousClock()
            var next = clock.now
            var slice = 0
            while true {
                next += interval / slices
                do { try await Task.sleep(until: next, clock: clock) } catch { return }
                core.heartbeat(heartbeatBytes, slice: slice, of: slices)
                slice = (slice + 1) % slices
            }
        }
        return Running(
            daemons: daemons.map(MHDDaemon.init), port: port, heartbeat: heartbeat,
            logSink: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(sink))))
    }

    // MARK: - Run and shut down

    /// Starts the server, waits until the calling task is cancelled (the service group's graceful shutdown), then
    /// shuts down gracefully.
    public func run() async throws {
        try start()
        let (wakeUp, signal) = AsyncStream<Void>.makeStream()
        await withTaskCancellationHandler {
            for await _ in wakeUp {}
        } onCancel: {
            signal.finish()
        }
        await shutdown()
    }

    /// Stops gracefully: stops accepting connections, finishes every open stream (clients reconnect elsewhere),
    /// waits until streams and running handlers are done (at most ``Configuration/shutdownTimeout``; handlers still
    /// running then are answered 503), then stops the daemon. Returns at once if the server is not running; a
    /// concurrent second call waits for the first.
    public func shutdown() async {
        let running = phase.withLock { phase -> Running? in
            guard case .running(let running) = phase else { return nil }
            phase = .stopping
            return running
        }
        guard let running else {
            while case .stopping = phase.withLock({ $0 }) { await Self.pause(.milliseconds(10)) }
            return
        }
        let logger = core.logger
        let daemons = running.daemons.map(\.pointer)
        let listenSockets = daemons.map { MHD_quiesce_daemon($0) }
        logger.info("http server shutting down", metadata: ["open_streams": String(core.openStreamCount)])
        core.beginDraining()

        let clock = ContinuousClock()
        let deadline = clock.now + configuration.shutdownTimeout
        while !core.isDrained, clock.now < deadline { await Self.pause(.milliseconds(5)) }
        // Streams whose clients did not take their last bytes in time; connections still waiting for their batched
        // resume get it now (a suspended connection must not outlive the daemon).
        core.closeStreams()
        core.resumeBatchNow()
        if core.parkedRequestCount > 0 {
            logger.warning(
                "handlers still running at shutdown, answering 503",
                metadata: ["count": String(core.parkedRequestCount)])
            core.abandonHandlers()
        }
        // Give the last responses a moment to go out, and libmicrohttpd to let go of resumed connections.
        let graceEnd = clock.now + .seconds(1)
        while core.pendingRequestCount > 0, clock.now < graceEnd { await Self.pause(.milliseconds(5)) }
        running.heartbeat.cancel()

        let sink = UnsafeMutablePointer<cmhd_logger>(bitPattern: running.logSink)
        if core.parkedRequestCount > 0 {
            // Stopping with suspended connections is undefined behaviour in libmicrohttpd: leak the daemon instead.
            logger.critical("http server could not drain; daemon left running without a listener")
        } else {
            for (daemon, listenSocket) in zip(daemons, listenSockets) {
                MHD_stop_daemon(daemon)
                if listenSocket >= 0 { close(listenSocket) }
            }
            Unmanaged.passUnretained(core).release()
            core.streamLoop.withLock { $0 }?.stop()
            core.streamLoop.withLock { $0 = nil }
            sink?.deinitialize(count: 1)
            sink?.deallocate()
        }
        phase.withLock { $0 = .stopped }
        logger.info("http server stopped")
    }

    /// Sleeps without throwing (shutdown must finish even when its task was cancelled).
    private static func pause(_ duration: Duration) async {
        do {
            try await Task.sleep(for: duration)
        } catch {
            usleep(UInt32(duration / .microseconds(1)))
        }
    }
}

/// An IPv4 or IPv6 socket address parsed from an IP literal.
struct SocketAddress {
    private var storage = sockaddr_storage()
    let isIPv6: Bool

    init(host: String, port: UInt16) throws(HTTPServerError) {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage) { target in
                withUnsafeBytes(of: v4) { target.copyMemory(from: $0) }
            }
            isIPv6 = false
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage) { target in
                withUnsafeBytes(of: v6) { target.copyMemory(from: $0) }
            }
            isIPv6 = true
            return
        }
        throw HTTPServerError(.invalidConfiguration, "host must be an IPv4 or IPv6 literal, got \(host)")
    }

    mutating func withSockAddr<Result>(_ body: (UnsafeMutableRawPointer) -> Result) -> Result {
        withUnsafeMutableBytes(of: &storage) { body($0.baseAddress!) }
    }

    /// Both families keep the port at the same offset (`sin_port`, `sin6_port`).
    mutating func setPort(_ port: UInt16) {
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.storeBytes(
                of: port.bigEndian, toByteOffset: MemoryLayout<sockaddr_in>.offset(of: \.sin_port)!, as: UInt16.self)
        }
    }

    /// True if a socket without `SO_REUSEPORT` can bind the address right now.
    mutating func isFree() -> Bool {
        let family = isIPv6 ? AF_INET6 : AF_INET
        let length = socklen_t(isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        #if canImport(Glibc)
            let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(family, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return true }  // cannot tell: let the daemons' own bind decide
        defer { close(fd) }
        // As the daemons do: a port left in TIME_WAIT by a previous run is free; one with a listener is not.
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        return withSockAddr { bind(fd, $0.assumingMemoryBound(to: sockaddr.self), length) } == 0
    }
}
