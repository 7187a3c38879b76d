import AppCore
import AppTesting
import Foundation
import PostgresStore
import Testing

@testable import App

/// No submission lost or doubled under a flaky workflow: 1,000 submissions, the fake n8n failing 30% of calls
/// at random, two instances dispatching the same PostgreSQL outbox (leases with `FOR UPDATE SKIP LOCKED`), plans
/// back through Redis.
@Suite(
    .enabled(
        if: RedisTestConfiguration.isEnabled && PostgresTestConfiguration.isEnabled,
        "needs CLPR_TEST_REDIS_URL and CLPR_TEST_DATABASE_URL (./test starts both)"))
struct OutboxLoadTests {
    /// The single number a `SELECT count(*)` answered.
    static func number(_ rows: [[String?]]?) -> Int? {
        guard let rows, let row = rows.first, let value = row.first, let value else { return nil }
        return Int(value)
    }

    @Test func thousandSubmissionsWithThirtyPercentFailuresAreEachPlannedExactlyOnce() async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let fake = try await FakeN8N(
            mode: .flaky, secret: N8NIntegrationTests.secret, redis: redis, delay: .zero, failRate: 0.3, seed: 7)
        try await PostgresTestDatabase.with { database in
            let configure = N8NIntegrationTests.configure(redis: redis, n8n: fake.url, planTimeout: .seconds(120))
            let postgres = Application.Configuration.Database.postgres(database.configuration)
            try await withTestApplication(database: postgres, configure: configure) { first in
                try await withTestApplication(database: postgres, configure: configure) { second in
                    #expect(await N8NIntegrationTests.subscribed(first))
                    #expect(await N8NIntegrationTests.subscribed(second))
                    let cookie = try await first.login()
                    let count = 1000
                    let clock = ContinuousClock()
                    let start = clock.now
                    let submissions = try await withThrowingTaskGroup(of: [Submission].self) { group in
                        for worker in 0..<8 {
                            group.addTask {
                                var mine: [Submission] = []
                                for _ in stride(from: worker, to: count, by: 8) {
                                    mine.append(try await first.submitNewClaim(cookie: cookie))
                                }
                                return mine
                            }
                        }
                        return try await group.reduce(into: []) { $0 += $1 }
                    }
                    let submitted = clock.now - start
                    #expect(Set(submissions.map(\.submissionID)).count == count)

                    let store = try await database.openStore(poolSize: 1)
                    defer { store.close() }
                    let allPlanned = await eventually(timeout: .seconds(90), every: .milliseconds(250)) {
                        let rows = try? await store.inspect("SELECT count(*) FROM clpr_claim_plans")
                        return Self.number(rows) == count
                    }
                    let planned = clock.now - start
                    #expect(allPlanned)
                    let stats = try await fake.stats()
                    let ids = submissions.map(\.submissionID)
                    #expect(ids.allSatisfy { stats.accepted[$0] == 1 }, "every submission accepted exactly once")
                    #expect(ids.allSatisfy { stats.published[$0] == 1 }, "every plan published exactly once")
                    let calls = stats.requests.values.reduce(0, +)
                    #expect(calls > count, "the fake failed some calls, which were retried")
                    let sent = try await store.inspect("SELECT count(*) FROM clpr_outbox WHERE state = 'sent'")
                    #expect(Self.number(sent) == count)
                    let stored = try await store.inspect(
                        "SELECT count(*) FROM clpr_claim_plans WHERE outcome = 'ready'")
                    #expect(Self.number(stored) == count)
                    let bothSent =
                        first.application.dispatcher.counts.sent > 0
                        && second.application.dispatcher.counts.sent > 0
                    #expect(bothSent, "both instances took part")
                    print(
                        "outbox load: \(count) submissions in \(submitted), all planned after \(planned); "
                            + "\(calls) webhook calls (\(calls - count) failed and retried); sent by instance 1: "
                            + "\(first.application.dispatcher.counts.sent), instance 2: "
                            + "\(second.application.dispatcher.counts.sent)")
                }
            }
        }
        await fake.stop()
    }
}
