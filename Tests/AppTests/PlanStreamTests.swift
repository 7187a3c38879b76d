import AppCore
import AppTesting
import Testing

@testable import App

/// `GET /api/v1/claim-plan/{session_token}`: the SSE stream that delivers the plan (ARCHITECTURE §4).
@Suite struct PlanStreamTests {
    /// Checks the single terminal `claim_plan_ready` of `transcript` against `submission`.
    static func expectReady(_ transcript: SSETranscript, for submission: Submission) throws {
        #expect(transcript.ended, "the server must end the stream after the terminal event")
        #expect(transcript.events.count == 1)
        let event = try #require(transcript.events.first)
        #expect(event.event == "claim_plan_ready")
        #expect(event.id == submission.submissionID)
        let plan = try #require(JSONValue.parse(event.data ?? ""))
        #expect(plan["session_token"]?.string == submission.sessionToken)
        #expect(plan["submission_id"]?.string == submission.submissionID)
        #expect(plan["claim_id"]?.string == submission.claimID)
        #expect(plan["version"]?.int == 1)
        let documents = try #require(plan["required_documents"]?.array)
        #expect(!documents.isEmpty)
        #expect(documents.allSatisfy { $0["code"]?.string?.isEmpty == false })
    }

    @Test func liveSubscriberGetsRetryThenThePlanThenTheEnd() async throws {
        try await withTestApplication {
            $0.plannerDelay = .milliseconds(800)
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            #expect(stream.head.mediaType == "text/event-stream")
            #expect(stream.head[header: "Cache-Control"]?.contains("no-cache") == true)
            #expect(stream.head[header: "X-Accel-Buffering"] == "no")
            #expect(stream.head[header: "Content-Encoding"] == nil)

            let transcript = try await stream.collect(timeout: .seconds(10))
            let retry = try #require(transcript.blocks.first?.retry, "the first bytes must be a retry: line")
            #expect((1000...10_000).contains(retry))
            try Self.expectReady(transcript, for: submission)
            // The plan is stored with the claim as well.
            let plan = try await app.claim(submission.claimID, cookie: cookie)["plan"]
            #expect(plan?["submission_id"]?.string == submission.submissionID)
            #expect(await app.waitForStreams(0))
        }
    }

    @Test func lateSubscriberGetsTheStoredPlanOnce() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            _ = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))

            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.blocks.first?.retry != nil)
            try Self.expectReady(transcript, for: submission)

            // A reconnect that already has the terminal event is told to stop.
            let reconnect = try await app.openStream(
                submission.streamURL, cookie: cookie, lastEventID: submission.submissionID)
            #expect(reconnect.head.status == 204)
            // Any other Last-Event-ID gets the stored plan again.
            let other = try await app.openStream(submission.streamURL, cookie: cookie, lastEventID: "sub_older")
            #expect(other.head.status == 200)
            try Self.expectReady(try await other.collect(timeout: .seconds(5)), for: submission)
            #expect(await app.waitForStreams(0))
        }
    }

    @Test func refusesStreamsThatAreNotYours() async throws {
        try await withTestApplication { app in
            let owner = try await app.login(phone: "+79161234567")
            let stranger = try await app.login(phone: "+79035556677")
            let submission = try await app.submitNewClaim(cookie: owner)
            let draft = try await app.createDraft(cookie: owner)
            let draftToken = try #require(draft["session_token"]?.string)

            let foreign = try await app.openStream(submission.streamURL, cookie: stranger)
            #expect(foreign.head.status == 404)
            #expect(foreign.head.errorCode == "stream_not_found")
            #expect(!foreign.head.text.contains("claim_plan"))

            let unknown = try await app.openStream(
                "/api/v1/claim-plan/\(String(repeating: "Z", count: 43))", cookie: owner)
            #expect(unknown.head.status == 404)
            let malformed = try await app.openStream("/api/v1/claim-plan/x", cookie: owner)
            #expect(malformed.head.status == 404)

            let notSubmitted = try await app.openStream("/api/v1/claim-plan/\(draftToken)", cookie: owner)
            #expect(notSubmitted.head.status == 409)
            #expect(notSubmitted.head.errorCode == "not_submitted")

            let anonymous = try await app.openStream(submission.streamURL, cookie: nil)
            #expect(anonymous.head.status == 401)
            #expect(anonymous.head.errorCode == "unauthenticated")
            #expect(app.openStreams == 0)
        }
    }

    @Test func expiredDraftStreamIsGone() async throws {
        try await withTestApplication {
            $0.planner = .none
            $0.draftLifetime = .milliseconds(300)
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            try await Task.sleep(for: .milliseconds(500))
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 410)
            #expect(stream.head.errorCode == "expired")
            #expect(app.openStreams == 0)
        }
    }

    @Test func silentPlannerTimesOutAndARetryKeepsTheSubmission() async throws {
        try await withTestApplication {
            $0.planner = .none
            $0.planTimeout = .seconds(1)
        } _: { app in
            let cookie = try await app.login()
            let answers = TestApplication.completeAnswers(for: "property")
            let submission = try await app.submitNewClaim(type: "property", answers: answers, cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            let transcript = try await stream.collect(timeout: .seconds(6))
            #expect(transcript.ended)
            #expect(transcript.events.count == 1)
            let event = try #require(transcript.events.first)
            #expect(event.event == "claim_plan_timeout")
            #expect(event.id == "\(submission.submissionID):timeout")
            #expect(JSONValue.parse(event.data ?? "")?["message"]?.string?.isEmpty == false)

            let retry = try TestApplication.submission(
                from: try await app.submit(
                    claimID: submission.claimID, answers: answers, revision: submission.revision, cookie: cookie))
            #expect(retry.submissionID == submission.submissionID)
            // The retry restarts the deadline: the new stream waits again, then times out again.
            let again = try await app.openStream(retry.streamURL, cookie: cookie)
            let first = try await again.nextEvent(timeout: .milliseconds(300))
            #expect(first.events.isEmpty, "the retried submission must wait for its plan again")
            let rest = try await again.collect(timeout: .seconds(6))
            #expect(rest.events.map(\.event) == ["claim_plan_timeout"])
            #expect(rest.ended)
        }
    }

    @Test func heartbeatsKeepTheStreamAlive() async throws {
        try await withTestApplication {
            $0.planner = .none
            $0.heartbeatInterval = .milliseconds(200)
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            let transcript = try await stream.collect(timeout: .seconds(3)) { $0.comments.contains("hb") }
            #expect(transcript.comments.contains("hb"))
            #expect(transcript.events.isEmpty)
            #expect(!transcript.ended)
        }
    }

    @Test(arguments: ["{\"version\":1}", "not json", "[1,2]", "{\"version\":2,\"submission_id\":\"{sub}\"}"])
    func invalidPayloadBecomesAnErrorEventAndADeadLetter(payload: String) async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let answers = TestApplication.completeAnswers(for: "travel")
            let submission = try await app.submitNewClaim(answers: answers, cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            #expect(await app.waitForStreams(1))
            #expect(try await app.deadLetterCount() == 0)

            try await app.publish(
                token: submission.sessionToken, payload: payload.replacing("{sub}", with: submission.submissionID))
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.ended)
            #expect(transcript.events.count == 1)
            let event = try #require(transcript.events.first)
            #expect(event.event == "claim_plan_error")
            #expect(event.id == "\(submission.submissionID):error")
            let data = try #require(JSONValue.parse(event.data ?? ""))
            #expect(data["code"]?.string == "invalid_plan")
            #expect(data["message"]?.string?.isEmpty == false)
            #expect(!(event.data ?? "").contains(payload), "the raw payload must not reach the browser")
            #expect(try await app.deadLetterCount() == 1)

            // Nothing was taken as the plan, and a retry gets a fresh submission id.
            #expect(try await app.claim(submission.claimID, cookie: cookie)["plan"]?.isNull == true)
            let retry = try TestApplication.submission(
                from: try await app.submit(
                    claimID: submission.claimID, answers: answers, revision: submission.revision, cookie: cookie))
            #expect(retry.submissionID != submission.submissionID)
        }
    }

    @Test func workflowErrorBecomesAnErrorEvent() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(await app.waitForStreams(1))
            try await app.publish(
                token: submission.sessionToken,
                payload: jsonText(
                    JSONValue.object([
                        "event": .string("claim_plan_error"),
                        "data": .object([
                            "submission_id": .string(submission.submissionID), "message": .string("boom"),
                        ]),
                    ])))
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.events.map(\.event) == ["claim_plan_error"])
            #expect(transcript.events.first?.id == "\(submission.submissionID):error")
            #expect(try await app.deadLetterCount() == 0)
        }
    }

    @Test func duplicatePublishIsDeliveredOnce() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let first = try await app.openStream(submission.streamURL, cookie: cookie)
            let second = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(await app.waitForStreams(2))

            let plan = try await app.plan(claimID: submission.claimID, submissionID: submission.submissionID)
            try await app.publish(token: submission.sessionToken, payload: plan.jsonText())
            try await app.publish(token: submission.sessionToken, payload: plan.jsonText())
            // The envelope form of the same plan is the same plan.
            try await app.publish(
                token: submission.sessionToken,
                payload: "{\"event\":\"claim_plan_ready\",\"data\":\(plan.jsonText())}")

            for stream in [first, second] {
                try Self.expectReady(try await stream.collect(timeout: .seconds(5)), for: submission)
            }
            #expect(try await app.deadLetterCount() == 0)
            #expect(await app.waitForStreams(0))
        }
    }

    @Test func planForAnOlderSubmissionIsNotShown() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let answers = TestApplication.completeAnswers(for: "travel")
            let old = try await app.submitNewClaim(answers: answers, cookie: cookie)
            let oldPlan = try await app.plan(claimID: old.claimID, submissionID: old.submissionID)
            var changed = answers
            changed["trip_country"] = "Египет"
            let current = try TestApplication.submission(
                from: try await app.submit(
                    claimID: old.claimID, answers: changed, revision: old.revision, cookie: cookie))
            #expect(current.submissionID != old.submissionID)

            let stream = try await app.openStream(current.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            #expect(await app.waitForStreams(1))
            try await app.publish(token: old.sessionToken, payload: oldPlan.jsonText())
            let meanwhile = try await stream.nextEvent(timeout: .milliseconds(800))
            #expect(meanwhile.events.isEmpty, "a plan for the older submission reached the stream")
            #expect(!meanwhile.ended)
            #expect(try await app.claim(old.claimID, cookie: cookie)["plan"]?.isNull == true)

            let plan = try await app.plan(claimID: current.claimID, submissionID: current.submissionID)
            #expect(plan.fields.contains { $0.value == "Египет" })
            try await app.publish(token: current.sessionToken, payload: plan.jsonText())
            let transcript = try await stream.collect(timeout: .seconds(5))
            try Self.expectReady(transcript, for: current)
            let data = try #require(transcript.events.first?.data)
            #expect(data.contains("Египет"))
        }
    }

    @Test func aPlanNamingAnotherClaimOnTheRightChannelIsRefused() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let mine = try await app.submitNewClaim(cookie: cookie)
            let other = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(mine.streamURL, cookie: cookie)
            #expect(await app.waitForStreams(1))
            // Right token and submission, but the other claim's id (a workflow mixing up its inputs).
            var mixed = try await app.plan(claimID: mine.claimID, submissionID: mine.submissionID)
            mixed.claimID = other.claimID
            try await app.publish(token: mine.sessionToken, payload: mixed.jsonText())
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.events.map(\.event) == ["claim_plan_error"])
            let stored = try await app.application.store.planRecord(
                sessionToken: mine.sessionToken, submissionID: mine.submissionID)
            guard case .failed? = stored?.outcome else {
                Issue.record("the refused plan was stored as \(String(describing: stored))")
                return
            }
            #expect(try await app.application.store.claim(id: mine.claimID)?.wizardPlan == nil)
        }
    }

    @Test func aPlanForAnotherTokenIsRejected() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let mine = try await app.submitNewClaim(cookie: cookie)
            let other = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(mine.streamURL, cookie: cookie)
            #expect(await app.waitForStreams(1))
            // The other claim's plan published on my channel: its session_token does not match the channel.
            let foreign = try await app.plan(claimID: other.claimID, submissionID: mine.submissionID)
            try await app.publish(token: mine.sessionToken, payload: foreign.jsonText())
            let transcript = try await stream.collect(timeout: .seconds(5))
            #expect(transcript.events.map(\.event) == ["claim_plan_error"])
            #expect(try await app.deadLetterCount() == 1)
        }
    }

    @Test func closedClientIsRemovedFromTheHub() async throws {
        let heartbeat = Duration.milliseconds(400)
        try await withTestApplication {
            $0.planner = .none
            $0.heartbeatInterval = heartbeat
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            #expect(await app.waitForStreams(1))
            // Still registered while the client is there.
            try await Task.sleep(for: heartbeat * 2)
            #expect(app.openStreams == 1)

            stream.abort()
            let clock = ContinuousClock()
            let closedAt = clock.now
            // Within two heartbeats, plus a little scheduling slack.
            #expect(await app.waitForStreams(0, timeout: heartbeat * 2 + .milliseconds(300)))
            let noticed = clock.now - closedAt
            #expect(noticed <= heartbeat * 2 + .milliseconds(300))
        }
    }

    @Test func shutdownEndsOpenStreams() async throws {
        let app = try await TestApplication.start { $0.planner = .none }
        let cookie = try await app.login()
        let submission = try await app.submitNewClaim(cookie: cookie)
        let stream = try await app.openStream(submission.streamURL, cookie: cookie)
        #expect(stream.head.status == 200)
        #expect(await app.waitForStreams(1))
        async let transcript = stream.collect(timeout: .seconds(8))
        try await Task.sleep(for: .milliseconds(200))
        await app.shutdown()
        let result = try await transcript
        #expect(result.ended, "shutdown must end streams so that clients reconnect elsewhere")
        #expect(result.events.isEmpty)
    }
}
