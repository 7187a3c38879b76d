import AppCore
import AppTesting
import Testing

/// `POST /api/v1/claims/wizard`: validation, the 202 and submission ids.
@Suite struct SubmitTests {
    @Test func incompleteAnswersNameEveryMissingField() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            let response = try await app.submit(claimID: id, answers: ["trip_country": "Турция"], cookie: cookie)
            #expect(response.status == 422)
            #expect(response.errorCode == "validation_failed")
            let fields = try #require(response.json?["error"]?["fields"]?.array)
            let named = Set(fields.compactMap { $0["field"]?.string })
            let required = ClaimType.travel.questions.filter(\.required).map(\.id).filter { $0 != "trip_country" }
            #expect(named == Set(required.map { "answers.\($0)" }))
            #expect(fields.allSatisfy { $0["message"]?.string?.isEmpty == false })
            // Nothing was submitted.
            let claim = try await app.claim(id, cookie: cookie)
            #expect(claim["submission_id"]?.isNull == true)
        }
    }

    @Test func badlyFormattedAnswersAreNamed() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            var answers = TestApplication.completeAnswers(for: "travel")
            answers["event_date"] = "2099-01-01"  // in the future
            answers["trip_start"] = "03.12.2025"  // not YYYY-MM-DD
            answers["expenses"] = "много"
            answers["event_kind"] = "alien_abduction"
            answers["contacted_assistance"] = "maybe"
            let response = try await app.submit(claimID: id, answers: answers, cookie: cookie)
            #expect(response.status == 422)
            let named = Set(try #require(response.json?["error"]?["fields"]?.array).compactMap { $0["field"]?.string })
            #expect(
                named == [
                    "answers.event_date", "answers.trip_start", "answers.expenses", "answers.event_kind",
                    "answers.contacted_assistance",
                ])
        }
    }

    @Test func completeAnswersAreAcceptedWithoutWaitingForThePlanner() async throws {
        try await withTestApplication {
            $0.plannerDelay = .seconds(2)
        } _: { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            let revision = try #require(draft["revision"]?.int)
            let clock = ContinuousClock()
            let started = clock.now
            let response = try await app.submit(
                claimID: id, answers: TestApplication.completeAnswers(for: "travel"), revision: revision, cookie: cookie
            )
            let elapsed = clock.now - started
            #expect(response.status == 202)
            #expect(elapsed < .seconds(1), "the request waited for the planner: \(elapsed)")
            let submission = try TestApplication.submission(from: response)
            #expect(submission.claimID == id)
            #expect(submission.submissionID.hasPrefix("sub_"))
            #expect(submission.sessionToken == draft["session_token"]?.string)
            #expect(submission.streamURL == "/api/v1/claim-plan/\(submission.sessionToken)")
            #expect(submission.revision == revision + 1)

            // The planner has not answered yet, but the claim knows its submission.
            let claim = try await app.claim(id, cookie: cookie)
            #expect(claim["plan"]?.isNull == true)
            #expect(claim["submission_id"]?.string == submission.submissionID)
            #expect(claim["stream_url"]?.string == submission.streamURL)
            #expect(claim["status"]?.string == "draft")
        }
    }

    @Test(arguments: ClaimCatalog.standard.types.map(\.code))
    func everyTypeCanBeSubmitted(typeCode: String) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(type: typeCode, cookie: cookie)
            let plan = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))
            #expect(plan["type_code"]?.string == typeCode)
            #expect(plan["submission_id"]?.string == submission.submissionID)
        }
    }

    @Test func resubmittingTheSameRevisionReusesTheSubmission() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let answers = TestApplication.completeAnswers(for: "travel")
            let first = try await app.submitNewClaim(answers: answers, cookie: cookie)
            let again = try TestApplication.submission(
                from: try await app.submit(
                    claimID: first.claimID, answers: answers, revision: first.revision, cookie: cookie))
            #expect(again.submissionID == first.submissionID)
            #expect(again.revision == first.revision)
            // Without a revision it means "the current one".
            let implicit = try TestApplication.submission(
                from: try await app.submit(claimID: first.claimID, answers: answers, cookie: cookie))
            #expect(implicit.submissionID == first.submissionID)

            var changed = answers
            changed["trip_country"] = "Египет"
            let edited = try TestApplication.submission(
                from: try await app.submit(
                    claimID: first.claimID, answers: changed, revision: first.revision, cookie: cookie))
            #expect(edited.submissionID != first.submissionID)
            #expect(edited.submissionID.hasPrefix("sub_"))
            #expect(edited.revision == first.revision + 1)
            #expect(edited.sessionToken == first.sessionToken)

            // The old revision is now stale.
            let stale = try await app.submit(
                claimID: first.claimID, answers: answers, revision: first.revision, cookie: cookie)
            #expect(stale.status == 409)
            #expect(stale.errorCode == "revision_conflict")
            #expect(stale.json?["error"]?["claim"]?["revision"]?.int == edited.revision)
        }
    }

    @Test func createAndSubmitAtOnce() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            struct Body: Encodable {
                var type_code: String
                var answers: [String: String]
            }
            let rejected = try await app.json(
                "POST", "/api/v1/claims/wizard", Body(type_code: "osago", answers: ["injuries": "no"]), cookie: cookie)
            #expect(rejected.status == 422)
            #expect(rejected.errorCode == "validation_failed")
            let afterRejection = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
            #expect(afterRejection.json?["drafts"]?.array?.isEmpty == true, "a rejected submission left a draft")

            let unknown = try await app.json(
                "POST", "/api/v1/claims/wizard", Body(type_code: "car", answers: [:]), cookie: cookie)
            #expect(unknown.status == 422)
            #expect(unknown.errorCode == "unknown_claim_type")

            let accepted = try await app.json(
                "POST", "/api/v1/claims/wizard",
                Body(type_code: "osago", answers: TestApplication.completeAnswers(for: "osago")), cookie: cookie)
            let submission = try TestApplication.submission(from: accepted)
            let claim = try await app.claim(submission.claimID, cookie: cookie)
            #expect(claim["type_code"]?.string == "osago")
            #expect(claim["submission_id"]?.string == submission.submissionID)
        }
    }
}
