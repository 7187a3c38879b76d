import AppCore
import AppTesting
import Crypto
import FoundationEssentials
import Testing

/// The confirmation receipt, the remembered wizard step and the negotiated language, on SQLite and PostgreSQL.
@Suite struct ReceiptTests {
    static let render = "0123456789abcdef0123456789abcdef"

    @Test(arguments: IdentityBackend.available)
    func confirmingStoresTheReceiptOfWhatWasShown(backend: IdentityBackend) async throws {
        try await backend.withApplication { app in
            let cookie = try await app.login()
            var answers = TestApplication.completeAnswers(for: "travel")
            // Line breaks, a tab, quotes, a backslash and non-ASCII: escapes the canonical form pins down (answers
            // refuse other control characters; ConfirmationReceiptTests covers those).
            answers["description"] = "Строка 1\nстрока 2\t«кавычки» \"q\" \\ </script>"
            let submission = try await app.submitNewClaim(answers: answers, cookie: cookie)
            _ = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))

            // The page in English: its declaration is the English one.
            let page = try await app.request(
                "GET", "/api/v1/claims/\(submission.claimID)/confirmation?render=\(Self.render)&lang=en",
                cookie: cookie)
            #expect(page.status == 200)
            #expect(page.text.contains("<html lang=\"en\">"))
            let declaration = ConfirmationWording.declaration(.en)
            #expect(page.text.contains(declaration))
            #expect(page.text.contains("Confirm the claim"))

            let before = Date().timeIntervalSince1970.rounded(.down)
            let confirmed = try await app.json(
                "POST", "/api/v1/claims/\(submission.claimID)/confirm", ["submission_id": submission.submissionID],
                cookie: cookie, headers: [("Accept-Language", "en-GB,en;q=0.9,ru;q=0.5")])
            #expect(confirmed.status == 200)
            let receipt = try #require(confirmed.json?["receipt"])
            let document = try #require(receipt["document"]?.string)
            let sha256 = try #require(receipt["sha256"]?.string)
            #expect(sha256 == Crypto.sha256Hex(document))
            #expect(sha256.count == 64)
            #expect(receipt["language"]?.string == "en")
            #expect(receipt["submission_id"]?.string == submission.submissionID)
            let confirmedAt = try #require(receipt["confirmed_at"]?.string)
            let at = try #require(try? Date(confirmedAt, strategy: .iso8601))
            #expect(at.timeIntervalSince1970 >= before && at.timeIntervalSince1970 <= before + 5)

            // The document is what the page showed: the plan's texts and the declaration, escaped canonically.
            #expect(document.hasPrefix("{\"claim_id\":\"\(submission.claimID)\",\"confirmed_at\":\"\(confirmedAt)\""))
            #expect(document.contains("\"declaration\":\"\(declaration)\""))
            #expect(document.contains(#"Строка 1\nстрока 2\t«кавычки» \"q\" \\ </script>"#))
            #expect(document.contains("\"language\":\"en\""))
            #expect(document.hasSuffix("\"version\":1}"))
            let plan = try #require(confirmed.json?["plan"])
            #expect(document.contains("\"title\":\"\(plan["title"]?.string ?? "-")\""))

            // Stored with the claim: read back unchanged, also after the claim is read again; confirming again
            // (a double click) keeps the first receipt.
            let again = try await app.json(
                "POST", "/api/v1/claims/\(submission.claimID)/confirm", ["submission_id": submission.submissionID],
                cookie: cookie)
            #expect(again.json?["receipt"] == receipt)
            #expect(try await app.claim(submission.claimID, cookie: cookie)["receipt"] == receipt)
        }
    }

    @Test(arguments: IdentityBackend.available)
    func theWizardStepIsRememberedForAnotherDevice(backend: IdentityBackend) async throws {
        try await backend.withApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            #expect(draft["wizard_step"] == .null)
            let revision = draft["revision"]?.int

            let saved = try await app.json("PUT", "/api/v1/claims/\(id)/step", ["step": 3], cookie: cookie)
            #expect(saved.status == 204)
            // Another device (a new session of the same person) sees the step; the answers' revision is untouched.
            let other = try await app.login()
            let claim = try await app.claim(id, cookie: other)
            #expect(claim["wizard_step"]?.int == 3)
            #expect(claim["revision"]?.int == revision)

            for bad in [0, 101, -1] {
                let refused = try await app.json("PUT", "/api/v1/claims/\(id)/step", ["step": bad], cookie: cookie)
                #expect(refused.status == 422)
                #expect(refused.errorField == "step")
            }
            let anonymous = try await app.json("PUT", "/api/v1/claims/\(id)/step", ["step": 2], cookie: nil)
            #expect(anonymous.status == 401)
            let stranger = try await app.login(phone: "+79161110000")
            let foreign = try await app.json("PUT", "/api/v1/claims/\(id)/step", ["step": 2], cookie: stranger)
            #expect(foreign.status == 404)
            #expect(try await app.claim(id, cookie: cookie)["wizard_step"]?.int == 3)
        }
    }

    @Test func theCatalogFollowsAcceptLanguage() async throws {
        try await withTestApplication { app in
            let russian = try await app.request("GET", "/api/v1/claim-types")
            #expect(russian[header: "Content-Language"] == "ru")
            #expect(russian.text.contains("Страховой случай в поездке"))
            let english = try await app.request(
                "GET", "/api/v1/claim-types", headers: [("Accept-Language", "de-DE,en;q=0.8,ru;q=0.1")])
            #expect(english[header: "Content-Language"] == "en")
            #expect(english[header: "Vary"] == "Accept-Language")
            #expect(english.text.contains("Insured event during a trip"))
            #expect(!english.text.contains("Страховой случай в поездке"))
            let chosen = try await app.request(
                "GET", "/api/v1/claim-types?lang=ru", headers: [("Accept-Language", "en")])
            #expect(chosen[header: "Content-Language"] == "ru")
        }
    }
}
