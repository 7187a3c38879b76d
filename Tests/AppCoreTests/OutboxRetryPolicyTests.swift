import AppCore
import Foundation
import Testing

@Suite struct OutboxRetryPolicyTests {
    let policy = OutboxRetryPolicy(baseDelay: .seconds(1), maxDelay: .seconds(60), maxAge: .seconds(3600))

    @Test func delayDoublesWithinItsJitterBandAndIsCapped() {
        #expect(policy.delay(afterAttempts: 1, jitter: 1) == .seconds(1))
        #expect(policy.delay(afterAttempts: 1, jitter: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempts: 4, jitter: 1) == .seconds(8))
        #expect(policy.delay(afterAttempts: 4, jitter: 0) == .seconds(4))
        #expect(policy.delay(afterAttempts: 30, jitter: 1) == .seconds(60))
        #expect(policy.delay(afterAttempts: 1000, jitter: 0.5) == .seconds(45))
    }

    @Test func oldItemsDieInsteadOfRetrying() {
        let created = Date(timeIntervalSince1970: 1_000_000)
        let item = OutboxItem(
            id: 1, kind: .planRequest, key: "sub", body: "{}", state: .pending, attempts: 3, createdAt: created,
            nextAttemptAt: created)
        let young = policy.completion(for: item, error: "HTTP 500", now: created.addingTimeInterval(10), jitter: 1)
        #expect(young == .retry(at: created.addingTimeInterval(14), error: "HTTP 500"))
        let old = policy.completion(for: item, error: "HTTP 500", now: created.addingTimeInterval(3600), jitter: 1)
        #expect(old == .dead(at: created.addingTimeInterval(3600), error: "HTTP 500"))
    }
}
