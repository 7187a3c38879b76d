import AppCore
import AppTesting
import Logging
import Testing

@testable import RedisBus

/// The adapter against a real Redis (`CLPR_TEST_REDIS_URL`; `./test` starts one).
@Suite(.enabled(if: RedisTestConfiguration.isEnabled, "needs CLPR_TEST_REDIS_URL (./test starts Redis)"))
struct RedisPlanBusTests {
    static func makeBus(url: String, logs: InMemoryLogHandler = InMemoryLogHandler()) throws -> RedisPlanBus {
        var configuration = try RedisPlanBus.Configuration(url: url)
        configuration.maxReconnectDelay = .milliseconds(200)
        return RedisPlanBus(
            configuration: configuration, logger: Logger(label: "test", logLevel: .debug, handler: logs))
    }

    /// Waits for the next message on `channel` (at most `timeout`). Tests share one Redis and every bus sees every
    /// `claim:plan:*` message, so others are skipped.
    static func next(
        _ messages: AsyncStream<PlanMessage>, on channel: String, timeout: Duration = .seconds(3)
    ) async -> PlanMessage? {
        await withTaskGroup(of: PlanMessage?.self) { group in
            group.addTask {
                for await message in messages where message.channel == channel { return message }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test func receivesWhatAnotherClientPublishesAndPublishesItself() async throws {
        let url = try RedisTestConfiguration.requireURL()
        let bus = try Self.makeBus(url: url)
        bus.start()
        #expect(await eventually(timeout: .seconds(3)) { bus.isSubscribed })
        let messages = bus.messages()
        let token = "tok_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let channel = "claim:plan:\(token)"
        let payload = Array("{\"binary\":\"\u{0}é\r\n\"}".utf8)
        let client = try RedisTestClient(url: url)
        #expect(try await client.publish("claim:plan:\(token)", payload) >= 1)
        let received = await Self.next(messages, on: channel)
        #expect(received == PlanMessage(channel: channel, payload: payload))

        // Other channels are not subscribed to.
        #expect(try await client.publish("claim:other:\(token)", [1]) == 0, "only claim:plan:* is subscribed")
        try await bus.publish(PlanMessage(channel: channel, payload: [2, 3]))
        let own = await Self.next(messages, on: channel)
        #expect(own == PlanMessage(channel: channel, payload: [2, 3]))
        await bus.shutdown()
        let ended = await eventually(timeout: .seconds(2)) {
            for await _ in messages {}
            return true
        }
        #expect(ended, "shutdown ends the message stream")
        await #expect(throws: RedisError.self) {
            try await bus.publish(PlanMessage(channel: "claim:plan:\(token)", payload: [1]))
        }
    }

    @Test func oversizedMessageIsCutToTheLimit() async throws {
        let url = try RedisTestConfiguration.requireURL()
        var configuration = try RedisPlanBus.Configuration(url: url)
        configuration.maxMessageBytes = 1000
        let logs = InMemoryLogHandler()
        let bus = RedisPlanBus(
            configuration: configuration, logger: Logger(label: "t", logLevel: .debug, handler: logs))
        bus.start()
        defer { Task { await bus.shutdown() } }
        #expect(await eventually(timeout: .seconds(3)) { bus.isSubscribed })
        let token = "big_" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let client = try RedisTestClient(url: url)
        try await client.publish("claim:plan:\(token)", [UInt8](repeating: 65, count: 5000))
        let message = try #require(await Self.next(bus.messages(), on: "claim:plan:\(token)"))
        #expect(message.payload.count == 1000)
        #expect(logs.entries.contains { $0.message.contains("over the size limit") })
    }

    @Test func reconnectsAndResubscribesAfterARedisRestart() async throws {
        let server = try await RedisTestServer()
        let logs = InMemoryLogHandler()
        let bus = try Self.makeBus(url: server.url, logs: logs)
        bus.start()
        #expect(await eventually(timeout: .seconds(3)) { bus.isSubscribed })
        let messages = bus.messages()

        await server.stop()
        #expect(await eventually(timeout: .seconds(3)) { !bus.isSubscribed })
        try await server.start()
        #expect(await eventually(timeout: .seconds(5)) { bus.isSubscribed })
        #expect(bus.reconnectCount == 1)
        #expect(logs.entries.contains { $0.message == "redis subscriber reconnected" })

        let client = try RedisTestClient(url: server.url)
        try await client.publish("claim:plan:after-restart", Array("x".utf8))
        let message = await Self.next(messages, on: "claim:plan:after-restart")
        #expect(message?.payload == Array("x".utf8))
        // The publisher's connection died with the restart too: it is replaced transparently.
        try await bus.publish(PlanMessage(channel: "claim:plan:after-restart", payload: [1]))
        #expect(await Self.next(messages, on: "claim:plan:after-restart")?.payload == [1])
        // One subscriber + one publisher (+ this client).
        #expect(try await client.info("clients", field: "connected_clients") == 3)

        let clock = ContinuousClock()
        let started = clock.now
        await bus.shutdown()
        #expect(clock.now - started < .seconds(1))
        await server.stop()
    }

    @Test func startsWhileRedisIsDownAndConnectsWhenItComes() async throws {
        let server = try await RedisTestServer()
        await server.stop()
        let bus = try Self.makeBus(url: server.url)
        bus.start()
        try await Task.sleep(for: .milliseconds(300))
        #expect(!bus.isSubscribed)
        try await server.start()
        #expect(await eventually(timeout: .seconds(5)) { bus.isSubscribed })
        await bus.shutdown()
        await server.stop()
    }
}
