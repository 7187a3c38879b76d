import AppCore
import Synchronization

/// The plan bus of the embedded default: a publish is delivered to this process's consumer, nothing else.
///
/// It carries the same messages Redis would (`claim:plan:{token}` + raw payload), so everything downstream of
/// the bus (validation, storage, fan-out) is the code production runs.
public final class InProcessPlanBus: PlanBus {
    private let stream: AsyncStream<PlanMessage>
    private let continuation: AsyncStream<PlanMessage>.Continuation
    private let consumed = Mutex(false)

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: PlanMessage.self, bufferingPolicy: .unbounded)
    }

    public func publish(_ message: PlanMessage) async throws {
        continuation.yield(message)
    }

    /// The single stream of messages. A second call is a programming error: messages would be split between
    /// consumers.
    public func messages() -> AsyncStream<PlanMessage> {
        let first = consumed.withLock { taken in
            defer { taken = true }
            return !taken
        }
        precondition(first, "InProcessPlanBus.messages() has one consumer")
        return stream
    }

    /// Ends the message stream (shutdown).
    public func finish() { continuation.finish() }
}
