import AppCore
import AppTesting
import Testing

/// The check-answers document, confirm and cancel.
@Suite struct ConfirmationTests {
    static let render = "0123456789abcdef0123456789abcdef"

    /// Signs in, submits a travel claim with a hostile description and waits for its plan.
    static func plannedClaim(_ app: TestApplication) async throws -> (cookie: String, submission: Submission) {
        let cookie = try await app.login()
        var answers = TestApplication.completeAnswers(for: "travel")
        answers["description"] = "<script>alert(1)</script> & \"quotes\""
        let submission = try await app.submitNewClaim(answers: answers, cookie: cookie)
        _ = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))
        return (cookie, submission)
    }

    @Test func confirmationDocumentIsEscapedUnderAStrictPolicy() async throws {
        try await withTestApplication { app in
            let (cookie, submission) = try await Self.plannedClaim(app)
            let response = try await app.request(
                "GET", "/api/v1/claims/\(submission.claimID)/confirmation?render=\(Self.render)", cookie: cookie)
            #expect(response.status == 200)
            #expect(response.mediaType == "text/html")
            #expect(response[header: "Cache-Control"] == "no-store")
            #expect(response[header: "X-Content-Type-Options"] == "nosniff")
            let policy = try #require(response[header: "Content-Security-Policy"])
            #expect(policy.contains("script-src 'nonce-"))
            #expect(policy.contains("frame-ancestors 'self'"))
            #expect(policy.contains("default-src 'none'"))
            #expect(!policy.contains("unsafe-inline"))

            let html = response.text
            #expect(html.contains(Self.render))
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"))
            #expect(!html.contains("<script>alert(1)"))
            #expect(html.contains(submission.submissionID))
            // Every script and style carries this response's nonce, and the policy allows only that one.
            let nonce = try #require(
                policy.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.hasPrefix("script-src 'nonce-") }?
                    .dropFirst("script-src 'nonce-".count).dropLast())
            #expect(nonce.count >= 16)
            let scripts = html.components(separatedBy: "<script").count - 1
            #expect(scripts == 1)
            #expect(html.contains("<script nonce=\"\(nonce)\">"))
            #expect(html.contains("<style nonce=\"\(nonce)\">"))

            // A second rendering gets a fresh nonce.
            let again = try await app.request(
                "GET", "/api/v1/claims/\(submission.claimID)/confirmation?render=\(Self.render)", cookie: cookie)
            #expect(again[header: "Content-Security-Policy"] != policy)
        }
    }

    @Test(arguments: [
        "", "?render=", "?render=xyz", "?render=0123", "?render=0123456789ABCDEF0123456789ABCDEF",
        "?render=\(String(repeating: "a", count: 65))", "?render=%3Cscript%3E0123456789abcdef", "?other=1",
    ])
    func badRenderParameterIsRejected(query: String) async throws {
        try await withTestApplication { app in
            let (cookie, submission) = try await Self.plannedClaim(app)
            let response = try await app.request(
                "GET", "/api/v1/claims/\(submission.claimID)/confirmation\(query)", cookie: cookie)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_field")
            #expect(response.errorField == "render")
            #expect(!response.text.contains("<script"))
        }
    }

    @Test func nothingToConfirmBeforeThePlan() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let draftID = try #require(draft["claim_id"]?.string)
            let unsubmitted = try await app.request(
                "GET", "/api/v1/claims/\(draftID)/confirmation?render=\(Self.render)", cookie: cookie)
            #expect(unsubmitted.status == 409)
            #expect(unsubmitted.errorCode == "plan_not_ready")

            let submission = try await app.submitNewClaim(cookie: cookie)
            let page = try await app.request(
                "GET", "/api/v1/claims/\(submission.claimID)/confirmation?render=\(Self.render)", cookie: cookie)
            #expect(page.status == 409)
            #expect(page.errorCode == "plan_not_ready")
            let confirm = try await app.json(
                "POST", "/api/v1/claims/\(submission.claimID)/confirm", ["submission_id": submission.submissionID],
                cookie: cookie)
            #expect(confirm.status == 409)
            #expect(confirm.errorCode == "plan_not_ready")
            #expect(try await app.claim(submission.claimID, cookie: cookie)["status"]?.string == "draft")
        }
    }

    @Test func cancelKeepsTheDraft() async throws {
        try await withTestApplication { app in
            let (cookie, submission) = try await Self.plannedClaim(app)
            let before = try await app.claim(submission.claimID, cookie: cookie)
            let response = try await app.json(
                "POST", "/api/v1/claims/\(submission.claimID)/cancel", ["submission_id": submission.submissionID],
                cookie: cookie)
            #expect(response.status == 200)
            let claim = try #require(response.json)
            #expect(claim["status"]?.string == "draft")
            #expect(claim["is_confirmed"]?.bool == false)
            #expect(claim["answers"] == before["answers"])
            #expect(claim["revision"]?.int == submission.revision)

            let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
            #expect(drafts.json?["drafts"]?.array?.compactMap { $0["claim_id"]?.string } == [submission.claimID])
            // The draft can still be edited.
            struct DraftBody: Encodable {
                var answers: [String: String]
                var revision: Int
            }
            var answers = TestApplication.completeAnswers(for: "travel")
            answers["trip_country"] = "Египет"
            let edited = try await app.json(
                "PUT", "/api/v1/claims/\(submission.claimID)/draft",
                DraftBody(answers: answers, revision: submission.revision), cookie: cookie)
            #expect(edited.status == 200)
        }
    }

    @Test func confirmIsFinalAndIdempotent() async throws {
        try await withTestApplication { app in
            let (cookie, submission) = try await Self.plannedClaim(app)
            let path = "/api/v1/claims/\(submission.claimID)"

            let stale = try await app.json("POST", path + "/confirm", ["submission_id": "sub_stale"], cookie: cookie)
            #expect(stale.status == 409)
            #expect(stale.errorCode == "stale_submission")

            let confirmed = try await app.json(
                "POST", path + "/confirm", ["submission_id": submission.submissionID], cookie: cookie)
            #expect(confirmed.status == 200)
            let claim = try #require(confirmed.json)
            // The built-in plan lists documents: the claim waits for them (DocumentTests cover the rest).
            #expect(claim["status"]?.string == "awaiting_documents")
            #expect(claim["is_confirmed"]?.bool == true)
            #expect(
                claim["status_history"]?.array?.compactMap { $0["status"]?.string } == ["draft", "awaiting_documents"])
            #expect(claim["plan"]?["submission_id"]?.string == submission.submissionID)

            let again = try await app.json(
                "POST", path + "/confirm", ["submission_id": submission.submissionID], cookie: cookie)
            #expect(again.status == 200)
            #expect(again.json?["status"]?.string == "awaiting_documents")
            #expect(again.json?["status_history"]?.array?.count == 2)

            let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
            #expect(drafts.json?["drafts"]?.array?.isEmpty == true)
            let all = try await app.json("GET", "/api/v1/claims", cookie: cookie)
            let listed = try #require(all.json?["claims"]?.array)
            #expect(listed.count == 1)
            #expect(listed.first?["claim_id"]?.string == submission.claimID)
            #expect(listed.first?["status"]?.string == "awaiting_documents")

            struct DraftBody: Encodable {
                var answers: [String: String]
                var revision: Int
            }
            let edit = try await app.json(
                "PUT", path + "/draft", DraftBody(answers: ["trip_country": "Египет"], revision: submission.revision),
                cookie: cookie)
            #expect(edit.status == 409)
            #expect(edit.errorCode == "not_a_draft")
            let resubmit = try await app.submit(
                claimID: submission.claimID, answers: TestApplication.completeAnswers(for: "travel"), cookie: cookie)
            #expect(resubmit.status == 409)
            #expect(resubmit.errorCode == "not_a_draft")
            let cancel = try await app.json(
                "POST", path + "/cancel", ["submission_id": submission.submissionID], cookie: cookie)
            #expect(cancel.status == 409)
            #expect(cancel.errorCode == "not_a_draft")

            // The document now says it is confirmed and offers no buttons.
            let page = try await app.request("GET", path + "/confirmation?render=\(Self.render)", cookie: cookie)
            #expect(page.status == 200)
            #expect(!page.text.contains("id=\"confirm\""))
        }
    }

    /// A plan describes the answers it was made from: once they change, it is history, not something to confirm.
    @Test func planOfEditedAnswersCannotBeConfirmed() async throws {
        try await withTestApplication { app in
            let (cookie, submission) = try await Self.plannedClaim(app)
            let path = "/api/v1/claims/\(submission.claimID)"
            #expect(try await app.claim(submission.claimID, cookie: cookie)["plan_is_current"]?.bool == true)

            struct DraftBody: Encodable {
                var answers: [String: String]
                var revision: Int
            }
            var answers = TestApplication.completeAnswers(for: "travel")
            answers["trip_country"] = "Египет"
            let edited = try await app.json(
                "PUT", path + "/draft", DraftBody(answers: answers, revision: submission.revision), cookie: cookie)
            #expect(edited.status == 200)
            #expect(edited.json?["plan_is_current"]?.bool == false)

            let confirm = try await app.json(
                "POST", path + "/confirm", ["submission_id": submission.submissionID], cookie: cookie)
            #expect(confirm.status == 409)
            #expect(confirm.errorCode == "stale_submission")
            let page = try await app.request("GET", path + "/confirmation?render=\(Self.render)", cookie: cookie)
            #expect(page.status == 409)
            let stream = try await app.openStream(
                "/api/v1/claim-plan/\(submission.sessionToken)", cookie: cookie)
            #expect(stream.head.status == 409)
            #expect(try await app.claim(submission.claimID, cookie: cookie)["status"]?.string == "draft")

            // Sending the edited answers makes a new submission whose plan can be confirmed.
            let resubmit = try await app.submit(claimID: submission.claimID, answers: answers, cookie: cookie)
            let again = try TestApplication.submission(from: resubmit)
            #expect(again.submissionID != submission.submissionID)
            _ = try await eventually(timeout: .seconds(10), every: .milliseconds(50)) {
                try await app.claim(submission.claimID, cookie: cookie)["plan_is_current"]?.bool == true
            }
            let confirmed = try await app.json(
                "POST", path + "/confirm", ["submission_id": again.submissionID], cookie: cookie)
            #expect(confirmed.status == 200)
            #expect(confirmed.json?["plan"]?["fields"]?.array?.contains { $0["value"]?.string == "Египет" } == true)
        }
    }
}
