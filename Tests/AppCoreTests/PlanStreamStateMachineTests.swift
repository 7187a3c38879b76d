import AppCore
import Testing

@Suite struct PlanStreamStateMachineTests {
    let ready = PlanRecord.Outcome.ready(planJSON: #"{"title":"x"}"#)

    @Test func waitsWhenNothingIsStored() {
        let machine = PlanStreamStateMachine(submissionID: "s1", lastEventID: nil, stored: nil, deadlinePassed: false)
        #expect(machine.opening == .stream(events: [], finish: false))
        #expect(machine.state == .waiting)
    }

    @Test func storedPlanIsSentAtOnceAndEndsTheStream() {
        let machine = PlanStreamStateMachine(submissionID: "s1", lastEventID: nil, stored: ready, deadlinePassed: true)
        guard case .stream(let events, let finish) = machine.opening else {
            Issue.record("expected a stream")
            return
        }
        #expect(finish)
        #expect(events.map(\.event) == ["claim_plan_ready"])
        #expect(events.first?.id == "s1")
    }

    @Test func reconnectAfterTheTerminalEventGetsNoContent() {
        for id in ["s1", "s1:error", "s1:timeout"] {
            let machine = PlanStreamStateMachine(
                submissionID: "s1", lastEventID: id, stored: ready, deadlinePassed: false)
            #expect(machine.opening == .noContent)
        }
        let other = PlanStreamStateMachine(submissionID: "s2", lastEventID: "s1", stored: ready, deadlinePassed: false)
        #expect(other.opening != .noContent)
    }

    @Test func deadlinePassedWithoutPlanSendsTimeout() {
        let machine = PlanStreamStateMachine(submissionID: "s1", lastEventID: nil, stored: nil, deadlinePassed: true)
        guard case .stream(let events, true) = machine.opening else {
            Issue.record("expected a finished stream")
            return
        }
        #expect(events.map(\.event) == ["claim_plan_timeout"])
        #expect(events.first?.id == "s1:timeout")
    }

    @Test func exactlyOneTerminalEventEvenWithDuplicatesAndLateTimeouts() {
        var machine = PlanStreamStateMachine(submissionID: "s1", lastEventID: nil, stored: nil, deadlinePassed: false)
        #expect(machine.received(ready, for: "s0") == .none)  // a stale submission's plan is not shown
        guard case .sendAndFinish(let event) = machine.received(ready, for: "s1") else {
            Issue.record("expected the plan")
            return
        }
        #expect(event.event == "claim_plan_ready")
        #expect(machine.received(ready, for: "s1") == .none)
        #expect(machine.deadlineReached() == .none)
    }

    @Test func errorOutcomeBecomesErrorEvent() {
        var machine = PlanStreamStateMachine(submissionID: "s1", lastEventID: nil, stored: nil, deadlinePassed: false)
        let action = machine.received(.failed(code: "invalid_plan", message: "Нет \"плана\""), for: "s1")
        guard case .sendAndFinish(let event) = action else {
            Issue.record("expected an error event")
            return
        }
        #expect(event.event == "claim_plan_error")
        #expect(event.data == #"{"code":"invalid_plan","message":"Нет \"плана\""}"#)
    }

    @Test func wireFormatSplitsDataLines() {
        let event = ServerSentEvent(event: "e", id: "1", data: "a\nb")
        #expect(String(decoding: event.bytes, as: UTF8.self) == "event: e\nid: 1\ndata: a\ndata: b\n\n")
    }
}
