import Logging

/// One server-sent event.
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String
    public var id: String?
    public var data: String

    public init(event: String, id: String?, data: String) {
        self.event = event
        self.id = id
        self.data = data
    }

    /// The wire form: `event:`, `id:`, one `data:` line per line of data (CR dropped), blank line.
    public var bytes: [UInt8] {
        let prefix = Array("data: ".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + event.utf8.count + (id?.utf8.count ?? 0) + 24)
        out += "event: ".utf8
        out += event.utf8
        out.append(Self.newline)
        if let id {
            out += "id: ".utf8
            out += id.utf8
            out.append(Self.newline)
        }
        out += prefix
        // Plans are single-line JSON: copy them whole; split only data that has line breaks.
        var data = data
        let hasLineBreaks = data.withUTF8 { bytes in
            bytes.contains(where: { $0 == Self.newline || $0 == Self.carriageReturn })
        }
        if !hasLineBreaks {
            out += data.utf8
        } else {
            for byte in data.utf8 where byte != Self.carriageReturn {
                out.append(byte)
                if byte == Self.newline { out += prefix }
            }
        }
        out += [Self.newline, Self.newline]
        return out
    }

    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
}

/// The terminal events of a plan stream and their ids.
public enum PlanStreamEvent {
    public static let ready = "claim_plan_ready"
    public static let error = "claim_plan_error"
    public static let timeout = "claim_plan_timeout"

    public static func id(for event: String, submissionID: String) -> String {
        switch event {
        case ready: submissionID
        case error: submissionID + ":error"
        default: submissionID + ":timeout"
        }
    }

    /// The event that shows `outcome` to the browser.
    public static func event(for outcome: PlanRecord.Outcome, submissionID: String) -> ServerSentEvent {
        switch outcome {
        case .ready(let planJSON):
            return ServerSentEvent(event: ready, id: id(for: ready, submissionID: submissionID), data: planJSON)
        case .failed(let code, let message):
            return ServerSentEvent(
                event: error, id: id(for: error, submissionID: submissionID),
                data: "{\"code\":\(quote(code)),\"message\":\(quote(message))}")
        }
    }

    public static func timeoutEvent(submissionID: String) -> ServerSentEvent {
        ServerSentEvent(
            event: timeout, id: id(for: timeout, submissionID: submissionID),
            data: "{\"message\":\(quote("План заявки не готов вовремя. Попробуйте ещё раз."))}")
    }

    static func quote(_ text: String) -> String { JSONText.quote(text) }
}

/// The life of one claim-plan stream, free of I/O: what to send when it opens, when an outcome arrives and when
/// the deadline passes. Exactly one terminal event is ever sent; anything after it is ignored.
public struct PlanStreamStateMachine: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case waiting
        case finished
    }

    /// What the server does when a browser opens the stream.
    public enum Opening: Sendable, Equatable {
        /// The browser already has the terminal event (`Last-Event-ID`): answer 204 so EventSource stops.
        case noContent
        /// Answer 200 and send `events`; if `finish`, end the stream after them.
        case stream(events: [ServerSentEvent], finish: Bool)
    }

    /// What to do with the stream after an input.
    public enum Action: Sendable, Equatable {
        case none
        case sendAndFinish(ServerSentEvent)
    }

    public let submissionID: String
    public private(set) var state: State

    /// Decides the opening for the current submission.
    /// - Parameters:
    ///   - lastEventID: the `Last-Event-ID` header, if any.
    ///   - stored: the outcome already recorded for this submission, read AFTER the stream was registered.
    ///   - deadlinePassed: whether the planner's deadline for this submission has passed.
    public init(submissionID: String, lastEventID: String?, stored: PlanRecord.Outcome?, deadlinePassed: Bool) {
        self.submissionID = submissionID
        self.state = .waiting
        self.opening = .stream(events: [], finish: false)
        let terminalIDs = [PlanStreamEvent.ready, PlanStreamEvent.error, PlanStreamEvent.timeout].map {
            PlanStreamEvent.id(for: $0, submissionID: submissionID)
        }
        if let lastEventID, terminalIDs.contains(lastEventID) {
            state = .finished
            opening = .noContent
        } else if let stored {
            state = .finished
            opening = .stream(events: [PlanStreamEvent.event(for: stored, submissionID: submissionID)], finish: true)
        } else if deadlinePassed {
            state = .finished
            opening = .stream(events: [PlanStreamEvent.timeoutEvent(submissionID: submissionID)], finish: true)
        }
    }

    /// What to do on open; see ``init(submissionID:lastEventID:stored:deadlinePassed:)``.
    public private(set) var opening: Opening

    /// An outcome arrived on the bus for `submissionID`.
    public mutating func received(_ outcome: PlanRecord.Outcome, for submissionID: String) -> Action {
        guard state == .waiting, submissionID == self.submissionID else { return .none }
        state = .finished
        return .sendAndFinish(PlanStreamEvent.event(for: outcome, submissionID: submissionID))
    }

    /// The deadline passed with no outcome.
    public mutating func deadlineReached() -> Action {
        guard state == .waiting else { return .none }
        state = .finished
        return .sendAndFinish(PlanStreamEvent.timeoutEvent(submissionID: submissionID))
    }

    /// The stream ended from outside (client gone, shutdown).
    public mutating func closed() { state = .finished }
}
