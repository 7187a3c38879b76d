import AppCore
import AppTesting
import Foundation
import Testing

/// The catalog, drafts, autosave and ownership.
@Suite struct ClaimTests {
    struct DraftBody: Encodable {
        var answers: [String: String]
        var revision: Int
    }

    @Test func catalogListsTypesWithQuestionsAndDocuments() async throws {
        try await withTestApplication { app in
            let response = try await app.json("GET", "/api/v1/claim-types")
            #expect(response.status == 200)
            let types = try #require(response.json?["claim_types"]?.array)
            #expect(types.count >= 3)
            let codes = Set(types.compactMap { $0["code"]?.string })
            #expect(codes.isSuperset(of: ["travel", "property", "osago"]))
            let kinds: Set = ["text", "textarea", "date", "number", "money", "select", "phone", "yesno"]
            for type in types {
                #expect(type["title"]?.string?.isEmpty == false)
                let questions = try #require(type["questions"]?.array)
                let documents = try #require(type["documents"]?.array)
                #expect(!questions.isEmpty)
                #expect(!documents.isEmpty)
                for question in questions {
                    #expect(question["id"]?.string?.isEmpty == false)
                    #expect(question["label"]?.string?.isEmpty == false)
                    #expect(kinds.contains(question["kind"]?.string ?? "?"))
                    #expect(question["required"]?.bool != nil)
                    if question["kind"]?.string == "select" { #expect(question["options"]?.array?.isEmpty == false) }
                }
                for document in documents {
                    #expect(document["code"]?.string?.isEmpty == false)
                    #expect(document["title"]?.string?.isEmpty == false)
                }
            }
        }
    }

    @Test(arguments: ClaimCatalog.standard.types.map(\.code))
    func createsAnEmptyDraft(typeCode: String) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let response = try await app.json("POST", "/api/v1/claims", ["type_code": typeCode], cookie: cookie)
            #expect(response.status == 201)
            let claim = try #require(response.json)
            let id = try #require(claim["claim_id"]?.string)
            #expect(UUID(uuidString: id) != nil)
            #expect(id == id.lowercased())
            #expect(claim["type_code"]?.string == typeCode)
            #expect(claim["type_title"]?.string?.isEmpty == false)
            #expect(claim["status"]?.string == "draft")
            #expect(claim["is_confirmed"]?.bool == false)
            #expect(claim["answers"]?.object?.isEmpty == true)
            #expect(claim["revision"]?.int != nil)
            #expect(claim["session_token"]?.string?.isEmpty == false)
            #expect(claim["submission_id"]?.isNull == true)
            #expect(claim["plan"]?.isNull == true)
            #expect(claim["stream_url"]?.isNull == true)
            #expect(claim["status_history"]?[0]?["status"]?.string == "draft")
            #expect(claim["created_at"]?.string?.isEmpty == false)

            let fetched = try await app.claim(id, cookie: cookie)
            #expect(fetched["claim_id"]?.string == id)
            #expect(fetched["session_token"] == claim["session_token"])
        }
    }

    @Test(arguments: ["car", "", "TRAVEL", "travel "])
    func unknownTypeIsRejected(typeCode: String) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let response = try await app.json("POST", "/api/v1/claims", ["type_code": typeCode], cookie: cookie)
            #expect(response.status == 422)
            #expect(response.errorCode == "unknown_claim_type")
            #expect(response.errorField == "type_code")
            let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
            #expect(drafts.json?["drafts"]?.array?.isEmpty == true)
        }
    }

    @Test func autosaveBumpsTheRevisionAndRefusesStaleOnes() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            let revision = try #require(draft["revision"]?.int)
            let path = "/api/v1/claims/\(id)/draft"

            let saved = try await app.json(
                "PUT", path, DraftBody(answers: ["trip_country": "Турция"], revision: revision), cookie: cookie)
            #expect(saved.status == 200)
            #expect(saved.json?["revision"]?.int == revision + 1)
            #expect(saved.json?["answers"]?["trip_country"]?.string == "Турция")

            // Half-typed answers are fine while autosaving (formats are checked on submit).
            let partial = try await app.json(
                "PUT", path,
                DraftBody(answers: ["trip_country": "Турция", "trip_start": "2025-0"], revision: revision + 1),
                cookie: cookie)
            #expect(partial.status == 200)
            #expect(partial.json?["revision"]?.int == revision + 2)

            // Another tab still holds the first revision.
            let stale = try await app.json(
                "PUT", path, DraftBody(answers: ["trip_country": "Египет"], revision: revision), cookie: cookie)
            #expect(stale.status == 409)
            #expect(stale.errorCode == "revision_conflict")
            let current = try #require(stale.json?["error"]?["claim"])
            #expect(current["claim_id"]?.string == id)
            #expect(current["revision"]?.int == revision + 2)
            #expect(current["answers"]?["trip_country"]?.string == "Турция")

            let stored = try await app.claim(id, cookie: cookie)
            #expect(stored["revision"]?.int == revision + 2)
            #expect(stored["answers"]?["trip_country"]?.string == "Турция")
            #expect(stored["answers"]?["trip_start"]?.string == "2025-0")
        }
    }

    @Test(arguments: [["nonsense": "x"], ["trip_country": "Турция", "__proto__": "1"]])
    func unknownAnswerKeyIsRejected(answers: [String: String]) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            let revision = try #require(draft["revision"]?.int)
            let response = try await app.json(
                "PUT", "/api/v1/claims/\(id)/draft", DraftBody(answers: answers, revision: revision), cookie: cookie)
            #expect(response.status == 422)
            #expect(response.errorCode == "validation_failed")
            let fields = try #require(response.json?["error"]?["fields"]?.array).compactMap { $0["field"]?.string }
            let unknown = try #require(answers.keys.first { $0 != "trip_country" })
            #expect(fields.contains("answers.\(unknown)"))
            #expect(try await app.claim(id, cookie: cookie)["revision"]?.int == revision)
        }
    }

    @Test func tooLongAnswerIsRejected() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let draft = try await app.createDraft(cookie: cookie)
            let id = try #require(draft["claim_id"]?.string)
            let revision = try #require(draft["revision"]?.int)
            let response = try await app.json(
                "PUT", "/api/v1/claims/\(id)/draft",
                DraftBody(answers: ["trip_country": String(repeating: "я", count: 101)], revision: revision),
                cookie: cookie)
            #expect(response.status == 422)
            #expect(response.json?["error"]?["fields"]?[0]?["field"]?.string == "answers.trip_country")
        }
    }

    @Test func draftsAreMineNewestFirst() async throws {
        try await withTestApplication { app in
            let mine = try await app.login(phone: "+79161234567")
            let theirs = try await app.login(phone: "+79035556677")
            var ids: [String] = []
            var firstRevision = 0
            for type in ["travel", "property", "osago"] {
                let draft = try await app.createDraft(type: type, cookie: mine)
                ids.append(try #require(draft["claim_id"]?.string))
                if ids.count == 1 { firstRevision = try #require(draft["revision"]?.int) }
                try await Task.sleep(for: .milliseconds(15))
            }
            let foreign = try #require(try await app.createDraft(cookie: theirs)["claim_id"]?.string)

            let list = try await app.json("GET", "/api/v1/claims/drafts", cookie: mine)
            #expect(list.status == 200)
            let drafts = try #require(list.json?["drafts"]?.array)
            #expect(drafts.compactMap { $0["claim_id"]?.string } == ids.reversed())
            #expect(drafts.allSatisfy { $0["status"]?.string == "draft" })

            // An edit makes a draft the newest.
            try await Task.sleep(for: .milliseconds(15))
            let saved = try await app.json(
                "PUT", "/api/v1/claims/\(ids[0])/draft",
                DraftBody(answers: ["trip_country": "Турция"], revision: firstRevision),
                cookie: mine)
            #expect(saved.status == 200)
            let reordered = try await app.json("GET", "/api/v1/claims/drafts", cookie: mine)
            #expect(
                reordered.json?["drafts"]?.array?.compactMap { $0["claim_id"]?.string } == [ids[0], ids[2], ids[1]])

            // Another session of the same person (same phone) sees the same drafts.
            let again = try await app.login(phone: "8 916 123-45-67")
            let fromAgain = try await app.json("GET", "/api/v1/claims/drafts", cookie: again)
            #expect(Set(fromAgain.json?["drafts"]?.array?.compactMap { $0["claim_id"]?.string } ?? []) == Set(ids))

            let other = try await app.json("GET", "/api/v1/claims/drafts", cookie: theirs)
            #expect(other.json?["drafts"]?.array?.compactMap { $0["claim_id"]?.string } == [foreign])
            let all = try await app.json("GET", "/api/v1/claims", cookie: theirs)
            #expect(all.json?["claims"]?.array?.compactMap { $0["claim_id"]?.string } == [foreign])
        }
    }

    @Test func anotherPersonsClaimIsForbidden() async throws {
        try await withTestApplication { app in
            let owner = try await app.login(phone: "+79161234567")
            let stranger = try await app.login(phone: "+79035556677")
            let submission = try await app.submitNewClaim(cookie: owner)
            _ = try await app.waitForPlan(claimID: submission.claimID, cookie: owner)
            let id = submission.claimID
            let decision = ["submission_id": submission.submissionID]
            let draft = DraftBody(answers: ["trip_country": "Египет"], revision: submission.revision)

            let responses = [
                try await app.json("GET", "/api/v1/claims/\(id)", cookie: stranger),
                try await app.json("PUT", "/api/v1/claims/\(id)/draft", draft, cookie: stranger),
                try await app.submit(
                    claimID: id, answers: TestApplication.completeAnswers(for: "travel"), cookie: stranger),
                try await app.json("POST", "/api/v1/claims/\(id)/confirm", decision, cookie: stranger),
                try await app.json("POST", "/api/v1/claims/\(id)/cancel", decision, cookie: stranger),
                try await app.json(
                    "GET", "/api/v1/claims/\(id)/confirmation?render=0123456789abcdef0123456789abcdef", cookie: stranger
                ),
            ]
            for response in responses {
                // The same answer as for an id that does not exist: nothing is revealed.
                #expect(response.status == 404)
                #expect(response.errorCode == "claim_not_found")
                #expect(!response.text.contains(submission.sessionToken))
            }
            // Nothing changed for the owner.
            let claim = try await app.claim(id, cookie: owner)
            #expect(claim["status"]?.string == "draft")
            #expect(claim["is_confirmed"]?.bool == false)
            #expect(claim["revision"]?.int == submission.revision)
            #expect(claim["submission_id"]?.string == submission.submissionID)
        }
    }

    @Test(arguments: [
        UUID().uuidString.lowercased(), UUID().uuidString, "not-a-uuid", "42", "0b3c5d1e-0000-4000-8000-00000000000g",
    ])
    func unknownOrMalformedIdIsNotFound(id: String) async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let decision = ["submission_id": "sub_x"]
            let responses = [
                try await app.json("GET", "/api/v1/claims/\(id)", cookie: cookie),
                try await app.json(
                    "PUT", "/api/v1/claims/\(id)/draft", DraftBody(answers: [:], revision: 1), cookie: cookie),
                try await app.submit(
                    claimID: id, answers: TestApplication.completeAnswers(for: "travel"), cookie: cookie),
                try await app.json("POST", "/api/v1/claims/\(id)/confirm", decision, cookie: cookie),
                try await app.json("POST", "/api/v1/claims/\(id)/cancel", decision, cookie: cookie),
                try await app.json(
                    "GET", "/api/v1/claims/\(id)/confirmation?render=0123456789abcdef0123456789abcdef", cookie: cookie),
            ]
            for response in responses {
                #expect(response.status == 404)
                #expect(response.errorCode == "claim_not_found")
            }
        }
    }
}
