import AppCore
import AppTesting
import Foundation
import PostgresStore
import Testing

@testable import App

/// The n8n hand-off end to end: clpr → outbox → a fake n8n process on loopback (`tests/fake-n8n/fake_n8n.py`) →
/// Redis `PUBLISH` (real Redis: `CLPR_TEST_REDIS_URL`) → plan intake → the browser's stream.
@Suite(.enabled(if: RedisTestConfiguration.isEnabled, "needs CLPR_TEST_REDIS_URL (./test starts Redis)"))
struct N8NIntegrationTests {
    static let secret = "test-secret-0123456789"

    /// An application on Redis whose planner is the fake n8n at `url`, with fast outbox timings.
    static func configure(
        redis: String, n8n url: String, timeout: Duration = .seconds(2), maxAge: Duration = .seconds(60),
        planTimeout: Duration = .seconds(10)
    ) -> @Sendable (inout Application.Configuration) -> Void {
        { configuration in
            configuration.planBus = try! .redis(url: redis)
            configuration.planner = .n8n
            configuration.n8n = .init(webhookURL: url, secret: secret)
            configuration.planTimeout = planTimeout
            configuration.outbox.timeout = timeout
            configuration.outbox.lease = timeout + .seconds(5)
            configuration.outbox.pollInterval = .milliseconds(50)
            configuration.outbox.concurrency = 16
            configuration.outbox.retry = OutboxRetryPolicy(
                baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), maxAge: maxAge)
        }
    }

    static func subscribed(_ app: TestApplication) async -> Bool {
        await eventually(timeout: .seconds(5)) { app.application.planBus.isReceiving == true }
    }

    /// Submits a new claim and checks the browser got its 202 at once (well under the fake's delays).
    static func submitQuickly(_ app: TestApplication, cookie: String) async throws -> Submission {
        let clock = ContinuousClock()
        let start = clock.now
        let submission = try await app.submitNewClaim(cookie: cookie)
        #expect(clock.now - start < .seconds(1))
        return submission
    }

    @Test func planPublishedByTheWorkflowReachesTheStream() async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let fake = try await FakeN8N(mode: .ok, secret: Self.secret, redis: redis, delay: .milliseconds(300))
        try await withTestApplication(configure: Self.configure(redis: redis, n8n: fake.url)) { app in
            #expect(await Self.subscribed(app))
            let cookie = try await app.login()
            let submission = try await Self.submitQuickly(app, cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            let transcript = try await stream.collect(timeout: .seconds(10))
            #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
            #expect(transcript.events.first?.id == submission.submissionID)
            #expect(JSONValue.parse(transcript.events.first?.data ?? "")?["source"]?.string == "fake-n8n")

            let stats = try await fake.stats()
            #expect(stats.requests[submission.submissionID] == 1)
            #expect(stats.badSignatures == 0)
            let body = try #require(stats.bodies[submission.submissionID])
            #expect(body["claim_id"]?.string == submission.claimID)
            #expect(body["session_token"]?.string == submission.sessionToken)
            #expect(body["type_code"]?.string == "travel")
            #expect(body["phone"]?.string == TestApplication.phone)
            #expect(body["unified_id"]?.string?.hasPrefix("usr_") == true)
            #expect(body["channel"]?.string == "web_form")
            #expect(body["stream_channel"]?.string == "claim:plan:\(submission.sessionToken)")
            #expect(body["answers"]?.object?.isEmpty == false)
            let headers = stats.headers[submission.submissionID] ?? [:]
            #expect(headers["Idempotency-Key"] == submission.submissionID)
            #expect(headers["X-Clpr-Timestamp"] != nil)
            #expect(headers["X-Clpr-Signature"]?.count == 64)
        }
        await fake.stop()
    }

    @Test func workflowRunningTwiceGivesOneEventAndOneStoredPlan() async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let fake = try await FakeN8N(mode: .twice, secret: Self.secret, redis: redis, delay: .milliseconds(500))
        try await withTestApplication(configure: Self.configure(redis: redis, n8n: fake.url)) { app in
            #expect(await Self.subscribed(app))
            let cookie = try await app.login()
            let submission = try await Self.submitQuickly(app, cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            let transcript = try await stream.collect(timeout: .seconds(10))
            #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
            #expect(
                await eventually(timeout: .seconds(5)) {
                    (try? await fake.stats().published[submission.submissionID]) == 2
                })
            try await Task.sleep(for: .milliseconds(200))
            #expect(app.logs.entries.filter { $0.message == "duplicate plan not stored again" }.count == 1)
            let store = app.application.store
            #expect(
                try await store.planRecord(sessionToken: submission.sessionToken, submissionID: submission.submissionID)
                    != nil)
        }
        await fake.stop()
    }

    @Test func silentWorkflowEndsInTimeoutAndRetryReusesTheSubmissionID() async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let fake = try await FakeN8N(mode: .empty, secret: Self.secret, redis: redis)
        try await withTestApplication(
            configure: Self.configure(redis: redis, n8n: fake.url, planTimeout: .seconds(2))
        ) { app in
            let cookie = try await app.login()
            let submission = try await Self.submitQuickly(app, cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            let transcript = try await stream.collect(timeout: .seconds(10))
            #expect(transcript.events.map(\.event) == ["claim_plan_timeout"])

            // The draft and its answers are intact.
            let claim = try await app.claim(submission.claimID, cookie: cookie)
            #expect(claim["status"]?.string == "draft")
            #expect(
                claim["answers"] == .object(TestApplication.completeAnswers(for: "travel").mapValues(JSONValue.string)))

            // Retry: same revision, same answers → same submission id, sent to the workflow again.
            let retry = try await app.submit(
                claimID: submission.claimID, answers: TestApplication.completeAnswers(for: "travel"),
                revision: submission.revision, cookie: cookie)
            let again = try TestApplication.submission(from: retry)
            #expect(again.submissionID == submission.submissionID)
            #expect(
                await eventually(timeout: .seconds(5)) {
                    (try? await fake.stats().requests[submission.submissionID]) == 2
                })
        }
        await fake.stop()
    }

    @Test(arguments: [FakeN8N.Mode.error500, .error429, .hang])
    func failingWorkflowIsRetriedThenDead(mode: FakeN8N.Mode) async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let fake = try await FakeN8N(mode: mode, secret: Self.secret, redis: redis, hang: .seconds(3))
        try await withTestApplication(
            configure: Self.configure(redis: redis, n8n: fake.url, timeout: .seconds(1), maxAge: .seconds(2))
        ) { app in
            let cookie = try await app.login()
            let submission = try await Self.submitQuickly(app, cookie: cookie)
            let store = app.application.store
            let dead = await eventually(timeout: .seconds(10), every: .milliseconds(100)) {
                (try? await store.outboxItems(states: [.dead], limit: 10).first?.key) == submission.submissionID
            }
            #expect(dead)
            let item = try #require(try await store.outboxItems(states: [.dead], limit: 10).first)
            #expect(item.attempts >= 2)
            switch mode {
            case .hang: #expect(item.lastError?.hasPrefix("timeout") == true)
            case .error429: #expect(item.lastError == "HTTP 429")
            default: #expect(item.lastError == "HTTP 500")
            }
            #expect(app.logs.entries.contains { $0.message.hasPrefix("outbox item dead") })
            #expect(try await app.json("GET", "/readyz").json?["outbox"]?["dead"]?.int == 1)
            // `clpr outbox --dead` lists it (a second connection to the same SQLite file, as the command opens).
            let listing = try await Application.outboxListing(configuration: app.application.configuration, dead: true)
            #expect(listing.hasPrefix("1 dead outbox item(s)"))
            #expect(listing.contains(submission.submissionID) && listing.contains(item.lastError ?? "?"))
            #expect(
                try await Application.outboxListing(configuration: app.application.configuration, dead: false)
                    .hasPrefix("0 pending"))
            // The claim is untouched: still a draft with its submission.
            #expect(try await app.claim(submission.claimID, cookie: cookie)["status"]?.string == "draft")
        }
        await fake.stop()
    }

    @Test func crmIsCalledOncePerPhoneAndKeepsTheContactID() async throws {
        let redis = try RedisTestConfiguration.requireURL()
        let fake = try await FakeN8N(mode: .crm)
        try await withTestApplication(
            configure: { configuration in
                Self.configure(redis: redis, n8n: "http://127.0.0.1:9/unused")(&configuration)
                configuration.planner = .none
                configuration.crmWebhookURL = fake.url
            }
        ) { app in
            _ = try await app.login()
            _ = try await app.login()
            #expect(
                await eventually(timeout: .seconds(5)) {
                    (try? await fake.stats().accepted[TestApplication.phone]) == 1
                })
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await fake.stats().requests[TestApplication.phone] == 1)
            let user = try #require(
                try await app.application.store.findOrCreateUser(
                    channel: .webForm, channelUserID: TestApplication.phone, phone: nil))
            #expect(
                await eventually { (try? await app.application.store.crmContactID(unifiedID: user.unifiedID)) == "c-1" }
            )
            // Another person: a call of their own.
            _ = try await app.login(phone: "+79161230000")
            #expect(await eventually(timeout: .seconds(5)) { (try? await fake.stats().accepted["+79161230000"]) == 1 })
        }
        await fake.stop()
    }
}
