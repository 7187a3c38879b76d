import AppCore
import Testing

@testable import App

@Suite struct MessageInboxTests {
    static func message(_ index: Int) -> PlanMessage { PlanMessage(channel: "claim:plan:t\(index)", payload: [0x7B]) }

    @Test func handsOverEverythingQueuedInOrderUpToTheBatchSize() async {
        let inbox = MessageInbox()
        for index in 0..<5 { inbox.push(Self.message(index)) }
        #expect(await inbox.next(max: 3) == (0..<3).map(Self.message))
        #expect(await inbox.next(max: 3) == (3..<5).map(Self.message))
    }

    @Test func waitsForTheNextMessageAndEndsAfterFinishOnceDrained() async {
        let inbox = MessageInbox()
        async let waiting = inbox.next(max: 10)
        try? await Task.sleep(for: .milliseconds(50))
        inbox.push(Self.message(1))
        #expect(await waiting == [Self.message(1)])
        inbox.push(Self.message(2))
        inbox.finish()
        #expect(await inbox.next(max: 10) == [Self.message(2)])
        #expect(await inbox.next(max: 10) == nil)
    }
}
