import AppCore
import InProcessBus
import Testing

@Suite struct InProcessPlanBusTests {
    @Test func deliversEveryPublishInOrderWithChannelAndPayloadIntact() async throws {
        let bus = InProcessPlanBus()
        let messages = bus.messages()
        let sent = (0..<100).map {
            PlanMessage(channel: PlanMessage.channel(for: "tok\($0)"), payload: Array("{\"n\":\($0)}".utf8))
        }
        for message in sent { try await bus.publish(message) }
        bus.finish()
        var received: [PlanMessage] = []
        for await message in messages { received.append(message) }
        #expect(received == sent)
        #expect(received.first?.sessionToken == "tok0")
    }

    @Test func publishesBeforeTheConsumerStartsAreKept() async throws {
        let bus = InProcessPlanBus()
        try await bus.publish(PlanMessage(channel: "claim:plan:early", payload: [1]))
        bus.finish()
        var tokens: [String?] = []
        for await message in bus.messages() { tokens.append(message.sessionToken) }
        #expect(tokens == ["early"])
    }

    @Test func channelNamesMapToTokens() {
        #expect(PlanMessage(channel: "claim:plan:abc", payload: []).sessionToken == "abc")
        #expect(PlanMessage(channel: "claim:plan:", payload: []).sessionToken == nil)
        #expect(PlanMessage(channel: "other:abc", payload: []).sessionToken == nil)
    }
}
