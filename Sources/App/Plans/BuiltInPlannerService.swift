import AppCore
import FoundationEssentials
import Logging

/// The embedded default's workflow engine: after a short delay it computes the plan and PUBLISHes it on the
/// bus as `claim:plan:{session_token}`, exactly as the n8n workflow does through Redis.
struct BuiltInPlannerService: Planner {
    let planner: BuiltInPlanner
    let bus: any PlanBus
    let delay: Duration
    let logger: Logger

    func requestPlan(for claim: Claim, submissionID: String) async {
        // Detached: the browser's request must not wait for the planner.
        Task.detached { [self] in
            try? await Task.sleep(for: delay)
            let stamp = Date().formatted(.iso8601)
            guard let plan = planner.plan(for: claim, submissionID: submissionID, generatedAt: stamp) else {
                logger.error("no plan for unknown claim type", metadata: ["type_code": claim.typeCode])
                return
            }
            do {
                try await bus.publish(
                    PlanMessage(
                        channel: PlanMessage.channel(for: claim.sessionToken), payload: Array(plan.jsonText().utf8)))
            } catch {
                logger.error("plan publish failed", metadata: ["error": String(reflecting: error)])
            }
        }
    }
}

/// A planner that never answers: for running against an external workflow that publishes by itself, and for
/// exercising the timeout path.
struct SilentPlanner: Planner {
    func requestPlan(for claim: Claim, submissionID: String) async {}
}
