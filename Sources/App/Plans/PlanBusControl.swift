import AppCore
import InProcessBus
import Logging
import RedisBus

/// The configured plan bus with its lifecycle: the in-process default, or Redis (`CLPR_REDIS_URL`).
enum PlanBusControl: Sendable {
    case inProcess(InProcessPlanBus)
    case redis(RedisPlanBus)

    static func make(_ kind: Application.Configuration.PlanBusKind, logger: Logger) -> PlanBusControl {
        switch kind {
        case .inProcess: .inProcess(InProcessPlanBus())
        case .redis(let configuration): .redis(RedisPlanBus(configuration: configuration, logger: logger))
        }
    }

    var bus: any PlanBus {
        switch self {
        case .inProcess(let bus): bus
        case .redis(let bus): bus
        }
    }

    /// Starts receiving (Redis: the subscriber thread, which connects in the background).
    func start() {
        if case .redis(let bus) = self { bus.start() }
    }

    /// Ends the message stream; Redis: stops the subscriber and closes its connections.
    func shutdown() async {
        switch self {
        case .inProcess(let bus): bus.finish()
        case .redis(let bus): await bus.shutdown()
        }
    }

    /// For `/metrics`: times the Redis subscriber reconnected since start; nil for the in-process bus.
    var reconnectCount: Int? {
        switch self {
        case .inProcess: nil
        case .redis(let bus): bus.reconnectCount
        }
    }

    /// For `/readyz`: nil when there is nothing to check, else whether the bus receives plans now.
    var isReceiving: Bool? {
        switch self {
        case .inProcess: nil
        case .redis(let bus): bus.isSubscribed
        }
    }
}
