import AppCore
import AppTesting
import PostgresStore
import SQLiteStore
import Testing

@testable import App

/// Access to the application's internals, as the workflow and operators would see them.
extension TestApplication {
    /// Publishes `payload` on `claim:plan:<token>`, exactly as the workflow does.
    func publish(token: String, payload: String) async throws {
        try await application.bus.publish(
            PlanMessage(channel: PlanMessage.channel(for: token), payload: Array(payload.utf8)))
    }

    /// The plan the built-in planner would make for the claim's current answers, under `submissionID`.
    func plan(claimID: String, submissionID: String) async throws -> ClaimPlan {
        let claim = try #require(try await application.store.claim(id: claimID))
        return try #require(
            BuiltInPlanner(catalog: .standard).plan(
                for: claim, submissionID: submissionID, generatedAt: "2026-12-03T14:05:09Z"))
    }

    /// Streams registered in the hub right now.
    var openStreams: Int { application.hub.count }

    /// Waits until `count` streams are registered in the hub.
    func waitForStreams(_ count: Int, timeout: Duration = .seconds(3)) async -> Bool {
        await eventually(timeout: timeout) { openStreams == count }
    }

    /// Rows in `clpr_plan_dead_letters`.
    func deadLetterCount() async throws -> Int {
        let sql = "SELECT count(*) FROM clpr_plan_dead_letters"
        switch application.database {
        case .sqlite(let store):
            guard case .integer(let count)? = try await store.inspect(sql).first?.first else { return -1 }
            return Int(count)
        case .postgres(let store):
            return try await store.inspect(sql).first?.first.flatMap { $0.flatMap { Int($0) } } ?? -1
        }
    }
}
