import Logging
import Synchronization
import Testing

@testable import HTTPServer

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ResponseStreamTests {
    /// Hands each new stream to the test.
    final class Streams: Sendable {
        private let streams = Mutex<[ResponseStream]>([])
        func add(_ stream: ResponseStream) { streams.withLock { $0.append(stream) } }
        var all: [ResponseStream] { streams.withLock { $0 } }
    }

    static func makeRouter(_ streams: Streams, closes: Counter) -> Router {
        var router = Router()
        router.get("/events") { _ in
            let stream = ResponseStream()
            stream.write(Array("data: before\n\n".utf8))
            stream.onClose { closes.increment() }
            streams.add(stream)
            Task {
                try? await Task.sleep(for: .milliseconds(50))
                stream.write(Array("data: after\n\n".utf8))
            }
            return HTTPResponse(
                status: 200, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache"],
                body: .stream(stream))
        }
        return router
    }

    static func configuration(heartbeat: Duration = .seconds(15)) -> HTTPServer.Configuration {
        var configuration = HTTPServer.Configuration(port: 0)
        configuration.heartbeatInterval = heartbeat
        return configuration
    }

    @Test func bytesBeforeAndAfterReturnArriveInOrderAndFinishEnds() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(Self.makeRouter(streams, closes: closes), configuration: Self.configuration()) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try await client.readHead()
            #expect(head.status == 200)
            #expect(head[header: "Content-Type"] == "text/event-stream")
            // Not chunked: the body ends when the server closes the connection.
            #expect(head[header: "Transfer-Encoding"] == nil)
            #expect(head[header: "Connection"]?.lowercased() == "close")
            #expect(head[header: "Content-Encoding"] == nil)
            #expect(head[header: "X-Request-Id"]?.count == 16)

            let text = await client.readUntil("data: after")
            let before = try #require(text.range(of: "data: before"))
            let after = try #require(text.range(of: "data: after"))
            #expect(before.upperBound <= after.lowerBound)
            #expect(server.openStreamCount == 1)

            let stream = try #require(streams.all.first)
            #expect(stream.isOpen)
            stream.write(Array("data: last\n\n".utf8))
            stream.finish()
            #expect(!stream.isOpen)
            #expect(!stream.write(Array("data: dropped\n\n".utf8)))
            #expect(await client.waitForClose())
            #expect(client.received.contains("data: last"))
            #expect(!client.received.contains("dropped"))
            #expect(await eventually { closes.count == 1 && server.openStreamCount == 0 })

            // onClose after the end runs at once.
            let late = Counter()
            stream.onClose { late.increment() }
            #expect(late.count == 1)
        }
        #expect(closes.count == 1)
    }

    /// Connections are spread over several event loops (daemons sharing the port); a stream on any of them is
    /// written to, finished and shut down like one on a single loop.
    @Test func streamsOnEveryEventLoopReceiveWritesAndShutdownEndsThemAll() async throws {
        let streams = Streams()
        let closes = Counter()
        var configuration = Self.configuration()
        configuration.threadPoolSize = 4
        configuration.connectionLimit = 64
        let server = HTTPServer(
            configuration: configuration, router: Self.makeRouter(streams, closes: closes),
            logger: Logger(label: "t", handler: InMemoryLogHandler()))
        try server.start()
        let clients = try (0..<48).map { _ in try TestClient(port: server.port) }
        for client in clients { try await client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n") }
        for client in clients { #expect(try await client.readHead().status == 200) }
        #expect(await eventually { server.openStreamCount == 48 })
        for stream in streams.all { stream.write(Array("data: to-every-loop\n\n".utf8)) }
        for client in clients { #expect(await client.readUntil("data: to-every-loop").contains("to-every-loop")) }
        await server.shutdown()
        for client in clients { #expect(await client.waitForClose()) }
        #expect(closes.count == 48)
        #expect(server.openStreamCount == 0)
    }

    @Test func heartbeatsArrive() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(
            Self.makeRouter(streams, closes: closes), configuration: Self.configuration(heartbeat: .milliseconds(200))
        ) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try await client.readHead()
            let text = await client.readUntil(": hb\n\n", timeout: .seconds(3))
            #expect(text.contains(": hb\n\n"))
        }
    }

    @Test func clientDisconnectFiresOnCloseWithinTwoHeartbeats() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(
            Self.makeRouter(streams, closes: closes), configuration: Self.configuration(heartbeat: .milliseconds(200))
        ) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try await client.readHead()
            await client.readUntil("data: after")
            #expect(server.openStreamCount == 1)
            client.abort()
            #expect(await eventually(timeout: .seconds(2)) { closes.count == 1 })
            #expect(await eventually { server.openStreamCount == 0 })
            #expect(streams.all.first?.isOpen == false)
        }
    }

    @Test func gracefulShutdownEndsOpenStreams() async throws {
        let streams = Streams()
        let closes = Counter()
        let server = HTTPServer(
            configuration: Self.configuration(), router: Self.makeRouter(streams, closes: closes),
            logger: Logger(label: "t", handler: InMemoryLogHandler()))
        try server.start()
        let clients = try (0..<3).map { _ in try TestClient(port: server.port) }
        for client in clients {
            try await client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            _ = try await client.readHead()
            await client.readUntil("data: after")
        }
        #expect(server.openStreamCount == 3)

        let start = ContinuousClock.now
        await server.shutdown()
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(closes.count == 3)
        #expect(server.openStreamCount == 0)
        for client in clients {
            #expect(await client.waitForClose(timeout: .seconds(1)))
            #expect(client.received.contains("data: after"))
        }
        #expect(server.port == 0)
        await server.shutdown()  // a second call is harmless
    }

    @Test func streamWrittenAndFinishedBeforeReturnIsSentWhole() async throws {
        var router = Router()
        router.get("/done") { _ in
            let stream = ResponseStream()
            stream.write(Array("one ".utf8))
            stream.write(Array("two".utf8))
            stream.finish()
            return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: .stream(stream))
        }
        try await withServer(router) { server in
            let client = try TestClient(port: server.port)
            try await client.send("GET /done HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try await client.readResponse()
            #expect(response.text == "one two")
            #expect(await eventually { server.openStreamCount == 0 })
        }
    }

    @Test func headOfAStreamSendsHeadersOnlyAndClosesTheStream() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(Self.makeRouter(streams, closes: closes)) { server in
            let client = try TestClient(port: server.port)
            try await client.send("HEAD /events HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try await client.readResponse(head: true)
            #expect(head.status == 200)
            #expect(head[header: "Content-Type"] == "text/event-stream")
            #expect(await eventually { closes.count == 1 })
            #expect(server.openStreamCount == 0)
        }
    }

    /// A route whose stream starts empty: the test writes to it once the connection is suspended.
    static func quietRouter(_ streams: Streams, closes: Counter) -> Router {
        var router = Router()
        router.get("/quiet") { _ in
            let stream = ResponseStream()
            stream.onClose { closes.increment() }
            streams.add(stream)
            return HTTPResponse(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(stream))
        }
        return router
    }

    /// True once the server has taken the stream's socket over from libmicrohttpd and nothing is pending.
    static func isTakenOver(_ stream: ResponseStream?) -> Bool {
        stream?.state.withLock { $0.ownsSocket && !$0.hasPending } ?? false
    }

    /// Opens `/quiet` on `server` (the first stream of `streams`) and waits until its socket is taken over.
    static func openQuietStream(on server: HTTPServer, _ streams: Streams) async throws -> (TestClient, ResponseStream)
    {
        let client = try TestClient(port: server.port)
        try await client.send("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { Self.isTakenOver(streams.all.first) })
        return (client, try #require(streams.all.first))
    }

    /// Writes 8 MB to `stream`, more than the socket buffers hold for a client that does not read.
    static func overfill(_ stream: ResponseStream) {
        let event = Array(("data: " + String(repeating: "z", count: 1_000) + "\n\n").utf8)
        for _ in 0..<8_000 { stream.write(event) }
    }

    /// Writes to an idle stream, small and large, go straight to its socket; the client reads every byte in order,
    /// then the close that ends the body.
    @Test func writesToAnIdleStreamGoStraightToTheSocketInOrder() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(Self.quietRouter(streams, closes: closes)) { server in
            let (client, stream) = try await Self.openQuietStream(on: server, streams)
            var expected = ""
            for index in 0..<100 {
                let event = "id: \(index)\ndata: small \(index)\n\n"
                expected += event
                stream.write(Array(event.utf8))
                if index == 50 {
                    let large = "data: " + String(repeating: "x", count: 10_000) + "\n\n"
                    expected += large
                    stream.write(Array(large.utf8))
                }
            }
            stream.finish()
            let response = try await client.readResponse()
            #expect(response.text == expected)
            #expect(client.isClosedByPeer)
            #expect(stream.state.withLock { $0.directSends } >= 50)
            #expect(await eventually { closes.count == 1 && server.openStreamCount == 0 })
        }
    }

    /// HTTP/1.0, or a client that sent `Connection: close` or `keep-alive`: the same body, ended by the close.
    @Test func aClientThatWillNotKeepTheConnectionGetsTheStreamUntilClose() async throws {
        for request in [
            "GET /quiet HTTP/1.0\r\n\r\n", "GET /quiet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "GET /quiet HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
        ] {
            let streams = Streams()
            let closes = Counter()
            try await withServer(Self.quietRouter(streams, closes: closes)) { server in
                let client = try TestClient(port: server.port)
                try await client.send(request)
                #expect(await eventually { Self.isTakenOver(streams.all.first) })
                let stream = try #require(streams.all.first)
                stream.write(Array("data: one\n\n".utf8))
                stream.write(Array("data: two\n\n".utf8))
                stream.finish()
                let response = try await client.readResponse()
                #expect(response[header: "Transfer-Encoding"] == nil)
                #expect(response.text == "data: one\n\ndata: two\n\n")
                #expect(client.isClosedByPeer)
                #expect(stream.state.withLock { $0.directSends } >= 1)
                #expect(await eventually { closes.count == 1 })
            }
        }
    }

    /// A client that stops reading: the socket fills, writes queue up behind it, and once it reads again it
    /// gets every byte in order.
    @Test func aClientThatStopsReadingGetsEverythingOnceItReadsAgain() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(Self.quietRouter(streams, closes: closes)) { server in
            let (client, stream) = try await Self.openQuietStream(on: server, streams)
            var expected = ""
            let line = String(repeating: "y", count: 1_000)
            for index in 0..<4_000 {
                let event = "data: \(index) \(line)\n\n"
                expected += event
                stream.write(Array(event.utf8))
            }
            #expect(stream.state.withLock { $0.hasPending }, "4 MB cannot all fit in the socket buffers")
            stream.finish()
            let response = try await client.readResponse()
            #expect(response.text.count == expected.count)
            #expect(response.text == expected)
        }
    }

    /// A stream idle for longer than libmicrohttpd's connection timeout (which no longer applies: the socket is the
    /// server's own once the head is sent) still gets a large write.
    @Test func aLargeWriteAfterALongIdleStretchStillArrives() async throws {
        let streams = Streams()
        let closes = Counter()
        var configuration = Self.configuration(heartbeat: .milliseconds(300))
        configuration.connectionTimeout = .seconds(1)
        try await withServer(Self.quietRouter(streams, closes: closes), configuration: configuration) { server in
            let (client, stream) = try await Self.openQuietStream(on: server, streams)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(stream.isOpen)
            let large = "data: " + String(repeating: "L", count: 10_000) + "\n\n"
            stream.write(Array(large.utf8))
            #expect(await client.readUntil(String(repeating: "L", count: 10_000) + "\n\n").contains(large))
            stream.finish()
            #expect(await client.waitForClose())
        }
    }

    /// A client that closes its end (a FIN, no reset) is noticed at once, long before the next heartbeat.
    @Test func aClosedClientIsNoticedAtOnce() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(Self.quietRouter(streams, closes: closes), configuration: Self.configuration()) {
            server in
            let (client, _) = try await Self.openQuietStream(on: server, streams)
            client.closeSendingSide()
            #expect(await eventually(timeout: .seconds(1)) { closes.count == 1 })
            #expect(server.openStreamCount == 0)
        }
    }

    /// Open streams do not hold libmicrohttpd connections: with room for two connections, five streams are open
    /// at once, each gets its event, and ordinary requests are still answered.
    @Test func openStreamsDoNotHoldLibraryConnections() async throws {
        let streams = Streams()
        let closes = Counter()
        var configuration = Self.configuration()
        configuration.threadPoolSize = 1
        configuration.connectionLimit = 2
        var router = Self.quietRouter(streams, closes: closes)
        router.get("/ping") { _ in HTTPResponse(status: 200, headers: [:], body: .bytes(Array("pong".utf8))) }
        try await withServer(router, configuration: configuration) { server in
            var clients: [TestClient] = []
            for index in 1...5 {
                let client = try TestClient(port: server.port)
                try await client.send("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await eventually { streams.all.count == index && streams.all.allSatisfy(Self.isTakenOver) })
                clients.append(client)
            }
            for (index, stream) in streams.all.enumerated() { stream.write(Array("data: \(index)\n\n".utf8)) }
            for (index, client) in clients.enumerated() {
                #expect(await client.readUntil("data: \(index)\n\n").contains("data: \(index)\n\n"))
            }
            let ping = try TestClient(port: server.port)
            try await ping.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await ping.readResponse().text == "pong")
            #expect(server.openStreamCount == 5)
        }
    }

    /// A client that stopped reading, with bytes pending and none taken between two heartbeats, is dropped; so is
    /// one whose stream is finished (its last bytes waiting).
    @Test(arguments: [false, true])
    func aClientThatTakesNothingBetweenTwoHeartbeatsIsDropped(finished: Bool) async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(
            Self.quietRouter(streams, closes: closes), configuration: Self.configuration(heartbeat: .milliseconds(300))
        ) { server in
            let (client, stream) = try await Self.openQuietStream(on: server, streams)
            Self.overfill(stream)
            if finished { stream.finish() }
            #expect(stream.state.withLock { $0.hasPending }, "8 MB cannot all fit in the socket buffers")
            #expect(await eventually(timeout: .seconds(3)) { closes.count == 1 })
            #expect(server.openStreamCount == 0)
            _ = client
        }
    }

    /// A taken-over socket fails once bytes stay unacknowledged for two heartbeats and 10 s (a client whose
    /// network vanished is dropped then, not after TCP's own minutes of retransmissions).
    @Test func aTakenOverSocketHasAnUnacknowledgedTimeout() async throws {
        let streams = Streams()
        let closes = Counter()
        try await withServer(
            Self.quietRouter(streams, closes: closes), configuration: Self.configuration(heartbeat: .seconds(5))
        ) { server in
            let (client, stream) = try await Self.openQuietStream(on: server, streams)
            let socket = stream.state.withLock { $0.socket }
            var timeout: UInt32 = 0
            var size = socklen_t(MemoryLayout<UInt32>.size)
            #expect(getsockopt(socket, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &timeout, &size) == 0)
            #expect(timeout == 20_000)
            _ = client
        }
    }

    /// A client gone while the handler ran: the stream it returned is never sent, and still ends (its close
    /// handlers release what it registered).
    @Test func aStreamWhoseClientLeftBeforeTheAnswerStillEnds() async throws {
        let started = Counter()
        let closes = Counter()
        var router = Router()
        router.get("/slow") { _ in
            let stream = ResponseStream()
            stream.onClose { closes.increment() }
            started.increment()
            try await Task.sleep(for: .milliseconds(300))
            stream.write(Array("data: late\n\n".utf8))
            return HTTPResponse(status: 200, headers: ["Content-Type": "text/event-stream"], body: .stream(stream))
        }
        try await withServer(router) { server in
            for round in 1...3 {
                let client = try TestClient(port: server.port)
                try await client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
                // Gone only once the handler runs (a client gone before its request was read never reaches it).
                #expect(await eventually { started.count == round })
                if round == 2 { client.closeSendingSide() } else { client.abort() }
            }
            #expect(await eventually(timeout: .seconds(3)) { closes.count == 3 })
            #expect(server.openStreamCount == 0)
        }
    }

    /// With a per-address limit, each open stream counts once: five streams opened back to back all open, the
    /// sixth connection is refused, and a closed stream frees its place.
    @Test func openStreamsCountOnceAgainstThePerAddressLimit() async throws {
        let streams = Streams()
        let closes = Counter()
        var configuration = Self.configuration()
        configuration.connectionsPerAddress = 5
        try await withServer(Self.quietRouter(streams, closes: closes), configuration: configuration) { server in
            var clients: [TestClient] = []
            for _ in 0..<5 {
                let client = try TestClient(port: server.port)
                try await client.send("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n")
                clients.append(client)
            }
            #expect(await eventually { streams.all.count == 5 && streams.all.allSatisfy(Self.isTakenOver) })
            try await Task.sleep(for: .milliseconds(100))  // the connections' batched hand-over is done
            let refused = try TestClient(port: server.port)
            try? await refused.send("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await refused.waitForClose(timeout: .seconds(2)))
            #expect(streams.all.count == 5)
            clients.removeFirst().abort()
            #expect(await eventually { closes.count == 1 })
            let next = try TestClient(port: server.port)
            try await next.send("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await eventually { streams.all.count == 6 && Self.isTakenOver(streams.all.last) })
        }
    }

    /// Shutdown does not wait past its timeout for a client that does not read: the stream is closed.
    @Test func shutdownClosesAStreamWhoseClientDoesNotRead() async throws {
        let streams = Streams()
        let closes = Counter()
        var configuration = Self.configuration()
        configuration.shutdownTimeout = .milliseconds(300)
        let server = HTTPServer(
            configuration: configuration, router: Self.quietRouter(streams, closes: closes),
            logger: Logger(label: "t", handler: InMemoryLogHandler()))
        try server.start()
        let (client, stream) = try await Self.openQuietStream(on: server, streams)
        Self.overfill(stream)
        let start = ContinuousClock.now
        await server.shutdown()
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(closes.count == 1)
        #expect(server.openStreamCount == 0)
        _ = client
    }

    @Test func unsentStreamStillFiresOnClose() {
        let closes = Counter()
        do {
            let stream = ResponseStream()
            stream.onClose { closes.increment() }
            stream.write([1, 2, 3])
        }
        #expect(closes.count == 1)
    }
}
