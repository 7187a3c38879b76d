/// A message on the plan bus: what the workflow published on `claim:plan:{session_token}`.
public struct PlanMessage: Sendable, Equatable {
    /// The channel, e.g. `claim:plan:Zk3…`.
    public var channel: String
    public var payload: [UInt8]

    public init(channel: String, payload: [UInt8]) {
        self.channel = channel
        self.payload = payload
    }

    public static let channelPrefix = "claim:plan:"

    /// The session token named by the channel, or nil if the channel is not a plan channel.
    public var sessionToken: String? {
        guard channel.hasPrefix(Self.channelPrefix) else { return nil }
        let token = String(channel.dropFirst(Self.channelPrefix.count))
        return token.isEmpty ? nil : token
    }

    public static func channel(for sessionToken: String) -> String { channelPrefix + sessionToken }
}

/// The transport between the workflow and the servers: Redis pub/sub in production, in-process by default.
///
/// Every instance reads every plan message once (`PSUBSCRIBE claim:plan:*`) and fans it out to its own streams.
public protocol PlanBus: Sendable {
    /// Publishes as the workflow would (`PUBLISH claim:plan:{token} payload`).
    func publish(_ message: PlanMessage) async throws
    /// All plan messages from now on. One consumer per process.
    func messages() -> AsyncStream<PlanMessage>
}

/// Sends a one-time login code to a phone (the log in development, an SMS gateway in production).
public protocol CodeSender: Sendable {
    func send(code: String, to phone: PhoneNumber) async throws
}

/// Asks the workflow engine for a plan. Returns at once: the plan arrives later on the ``PlanBus``.
public protocol Planner: Sendable {
    /// The outgoing calls that hand this submission to the workflow, written through the outbox in the same
    /// transaction as the submission itself. Default: none (a planner that works in process).
    func outboxMessages(for claim: Claim, submissionID: String) -> [OutboxMessage]
    /// Called after the submission was stored: starts the work (in process) or wakes the outbox dispatcher.
    func requestPlan(for claim: Claim, submissionID: String) async
}

extension Planner {
    public func outboxMessages(for claim: Claim, submissionID: String) -> [OutboxMessage] { [] }
}
