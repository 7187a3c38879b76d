import AppCore
import AppTesting
import Foundation
import Testing

@testable import App

/// The plan stream with the Redis bus, fed by a raw `PUBLISH` as n8n's Redis node sends it (real Redis:
/// `CLPR_TEST_REDIS_URL`, started by `./test`).
@Suite(.enabled(if: RedisTestConfiguration.isEnabled, "needs CLPR_TEST_REDIS_URL (./test starts Redis)"))
struct RedisPlanStreamTests {
    /// An application on the Redis bus at `url` whose planner stays silent: the test publishes.
    static func onRedis(_ url: String) -> @Sendable (inout Application.Configuration) -> Void {
        { configuration in
            configuration.planBus = try! .redis(url: url)
            configuration.planner = .none
        }
    }

    /// A valid plan for `submission`, as a workflow would publish it.
    static func planJSON(token: String, claimID: String, submissionID: String) -> [UInt8] {
        Array(
            """
            {"version":1,"session_token":"\(token)","claim_id":"\(claimID)","submission_id":"\(submissionID)",\
            "type_code":"travel","title":"Заявление о страховом случае","summary":"Проверьте данные.",\
            "fields":[{"key":"policy_number","label":"Номер полиса","value":"ВЗР-1"}],\
            "required_documents":[{"code":"passport","title":"Паспорт","required":true}],\
            "next_steps":["Подтвердите заявление."],"source":"n8n"}
            """.utf8)
    }

    static func planJSON(_ submission: Submission) -> [UInt8] {
        planJSON(token: submission.sessionToken, claimID: submission.claimID, submissionID: submission.submissionID)
    }

    /// Waits until the application's subscriber holds its `PSUBSCRIBE`.
    static func subscribed(_ app: TestApplication) async -> Bool {
        await eventually(timeout: .seconds(5)) { app.application.planBus.isReceiving == true }
    }

    @Test func planPublishedBeforeTheStreamOpensIsDeliveredOnce() async throws {
        let url = try RedisTestConfiguration.requireURL()
        try await withTestApplication(configure: Self.onRedis(url)) { app in
            #expect(await Self.subscribed(app))
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let redis = try RedisTestClient(url: url)
            #expect(try await redis.publish("claim:plan:\(submission.sessionToken)", Self.planJSON(submission)) >= 1)
            try await Task.sleep(for: .milliseconds(50))

            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.ended)
            #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
            #expect(transcript.events.first?.id == submission.submissionID)
            #expect(JSONValue.parse(transcript.events.first?.data ?? "")?["source"]?.string == "n8n")

            // The terminal event's id as Last-Event-ID: EventSource is told to stop.
            let again = try await app.openStream(
                submission.streamURL, cookie: cookie, lastEventID: submission.submissionID)
            #expect(again.head.status == 204)
            // A second identical PUBLISH (a workflow retry, or another instance) changes nothing.
            try await redis.publish("claim:plan:\(submission.sessionToken)", Self.planJSON(submission))
            #expect(await app.waitForStreams(0))
        }
    }

    @Test func planPublishedTheMomentHeadersArriveIsDeliveredOnce() async throws {
        let url = try RedisTestConfiguration.requireURL()
        try await withTestApplication(configure: Self.onRedis(url)) { app in
            #expect(await Self.subscribed(app))
            let cookie = try await app.login()
            let redis = try RedisTestClient(url: url)
            for _ in 0..<5 {
                let submission = try await app.submitNewClaim(cookie: cookie)
                let stream = try await app.openStream(submission.streamURL, cookie: cookie)
                #expect(stream.head.status == 200)
                try await redis.publish("claim:plan:\(submission.sessionToken)", Self.planJSON(submission))
                let transcript = try await stream.collect(timeout: .seconds(5))
                #expect(transcript.ended)
                #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
                #expect(transcript.events.first?.id == submission.submissionID)
            }
        }
    }

    @Test func streamOnOneInstanceGetsThePlanForASubmissionTakenByAnother() async throws {
        let url = try RedisTestConfiguration.requireURL()
        try await withTestApplication(configure: Self.onRedis(url)) { instanceA in
            // Instance B: same database file and secret key (same data directory), same Redis.
            let shared = instanceA.dataDirectory
            let instanceB = try await TestApplication.start { configuration in
                Self.onRedis(url)(&configuration)
                configuration.dataDirectory = shared
            }
            do {
                #expect(await Self.subscribed(instanceA))
                #expect(await Self.subscribed(instanceB))
                let cookie = try await instanceA.login()
                let submission = try await instanceA.submitNewClaim(cookie: cookie)
                let stream = try await instanceB.openStream(submission.streamURL, cookie: cookie)
                #expect(stream.head.status == 200)
                let redis = try RedisTestClient(url: url)
                // Both instances receive it; each stores it idempotently, B streams it.
                #expect(
                    try await redis.publish("claim:plan:\(submission.sessionToken)", Self.planJSON(submission)) >= 2)
                let transcript = try await stream.collect(timeout: .seconds(5))
                #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
                #expect(transcript.ended)
                // A's view of the claim has the plan too.
                let plan = try await instanceA.waitForPlan(claimID: submission.claimID, cookie: cookie)
                #expect(plan?["submission_id"]?.string == submission.submissionID)
            } catch {
                await instanceB.application.shutdown()
                throw error
            }
            await instanceB.application.shutdown()
        }
    }

    @Test func streamsWaitingThroughARedisRestartGetTheirPlans() async throws {
        let server = try await RedisTestServer()
        let url = server.url
        try await withTestApplication(configure: Self.onRedis(url)) { app in
            #expect(await Self.subscribed(app))
            let cookie = try await app.login()
            var submissions: [Submission] = []
            var streams: [EventStream] = []
            for _ in 0..<20 {
                let submission = try await app.submitNewClaim(cookie: cookie)
                let stream = try await app.openStream(submission.streamURL, cookie: cookie)
                #expect(stream.head.status == 200)
                submissions.append(submission)
                streams.append(stream)
            }
            #expect(await app.waitForStreams(20))

            await server.stop()
            #expect(await eventually(timeout: .seconds(3)) { app.application.planBus.isReceiving == false })
            let ready = try await app.json("GET", "/readyz")
            #expect(ready.status == 503)
            #expect(ready.json?["failing"]?.string == "redis")
            try await server.start()
            #expect(await Self.subscribed(app))
            #expect(app.logs.entries.contains { $0.message == "redis subscriber reconnected" })
            let metrics = try await app.request("GET", "/metrics").text
            #expect(metrics.contains("clpr_redis_reconnects_total 1\n"))
            #expect(metrics.contains("clpr_plan_streams_open 20\n"))
            #expect(try await app.json("GET", "/readyz").json?["redis"]?.string == "subscribed")

            let redis = try RedisTestClient(url: url)
            for submission in submissions {
                try await redis.publish("claim:plan:\(submission.sessionToken)", Self.planJSON(submission))
            }
            var delivered = 0
            for (stream, submission) in zip(streams, submissions) {
                let transcript = try await stream.collect(timeout: .seconds(5))
                if transcript.events.map(\.event) == ["claim_plan_ready"],
                    transcript.events.first?.id == submission.submissionID, transcript.ended
                {
                    delivered += 1
                }
            }
            #expect(delivered == 20)
        }
        await server.stop()
    }

    @Test func closedClientIsUnregisteredWithinTwoHeartbeats() async throws {
        let url = try RedisTestConfiguration.requireURL()
        try await withTestApplication(configure: Self.onRedis(url)) { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            #expect(await app.waitForStreams(1))
            stream.abort()
            // Heartbeats are 1 s in tests: gone by the second one at the latest.
            #expect(await app.waitForStreams(0, timeout: .milliseconds(2200)))
        }
    }

    @Test func invalidMessagesBecomeErrorsAndNeverCrash() async throws {
        let url = try RedisTestConfiguration.requireURL()
        try await withTestApplication(configure: Self.onRedis(url)) { app in
            #expect(await Self.subscribed(app))
            let cookie = try await app.login()
            let redis = try RedisTestClient(url: url)
            let payloads: [(String, (Submission) -> [UInt8])] = [
                ("invalid JSON", { _ in Array("{\"version\":1,".utf8) }),
                (
                    "missing fields",
                    { submission in
                        let token = submission.sessionToken
                        let id = submission.submissionID
                        return Array("{\"version\":1,\"session_token\":\"\(token)\",\"submission_id\":\"\(id)\"}".utf8)
                    }
                ),
                ("2 MB", { _ in [UInt8](repeating: UInt8(ascii: "a"), count: 2 * 1024 * 1024) }),
            ]
            for (name, payload) in payloads {
                let submission = try await app.submitNewClaim(cookie: cookie)
                let stream = try await app.openStream(submission.streamURL, cookie: cookie)
                #expect(stream.head.status == 200)
                try await redis.publish("claim:plan:\(submission.sessionToken)", payload(submission))
                let transcript = try await stream.collect(timeout: .seconds(5))
                #expect(transcript.events.map(\.event) == ["claim_plan_error"], "\(name)")
                #expect(transcript.events.first?.id?.hasPrefix(submission.submissionID) == true, "\(name)")
                #expect(transcript.ended, "\(name)")
            }
            // At least these three (other tests on the same Redis publish odd payloads too).
            #expect(try await app.deadLetterCount() >= 3)
            #expect(app.logs.entries.contains { $0.message.contains("over the size limit") })
            // A message for a token nobody has is logged and dropped.
            try await redis.publish("claim:plan:unknown_token_\(UInt32.random(in: 0...UInt32.max))", Array("{}".utf8))
            #expect(try await app.json("GET", "/healthz").status == 200)
            #expect(try await app.json("GET", "/readyz").status == 200)
        }
    }

    @Test func streamsBeyondTheCapAreRefusedWith503AndOpenOnesStay() async throws {
        let url = try RedisTestConfiguration.requireURL()
        try await withTestApplication {
            Self.onRedis(url)(&$0)
            $0.maxStreams = 2
        } _: { app in
            let cookie = try await app.login()
            var open: [EventStream] = []
            var submissions: [Submission] = []
            for _ in 0..<3 { submissions.append(try await app.submitNewClaim(cookie: cookie)) }
            for submission in submissions.prefix(2) {
                open.append(try await app.openStream(submission.streamURL, cookie: cookie))
            }
            #expect(open.allSatisfy { $0.head.status == 200 })
            let refused = try await app.openStream(submissions[2].streamURL, cookie: cookie)
            #expect(refused.head.status == 503)
            #expect(refused.head[header: "Retry-After"] == "5")
            #expect(refused.head.errorCode == "too_many_streams")
            #expect(app.openStreams == 2)
            // The open ones still get their plans.
            let redis = try RedisTestClient(url: url)
            #expect(await Self.subscribed(app))
            for (stream, submission) in zip(open, submissions) {
                try await redis.publish("claim:plan:\(submission.sessionToken)", Self.planJSON(submission))
                #expect(try await stream.collect(timeout: .seconds(5)).events.map(\.event) == ["claim_plan_ready"])
            }
        }
    }
}
