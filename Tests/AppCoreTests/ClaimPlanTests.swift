import AppCore
import Foundation
import Testing

@Suite struct ClaimPlanTests {
    func claim(answers: [String: String] = ["event_kind": "medical", "expenses": "1500", "event_date": "2026-11-25"])
        -> Claim
    {
        Claim(
            id: "9a1c1e3e-0000-4000-8000-000000000001", sessionToken: "tok_abcdefghijklmnop", unifiedID: "usr_1",
            userID: 1, channel: .webForm, typeCode: "travel", phone: "+79161234567", answers: answers,
            createdAt: .init(timeIntervalSince1970: 0), updatedAt: .init(timeIntervalSince1970: 0))
    }

    @Test func builtInPlanPassesTheSchemaItDefines() throws {
        let planner = BuiltInPlanner(catalog: .standard)
        let plan = try #require(planner.plan(for: claim(), submissionID: "sub_1", generatedAt: "2026-12-03T00:00:00Z"))
        let parsed = try ClaimPlan.parse(Array(plan.jsonText().utf8), sessionToken: "tok_abcdefghijklmnop")
        #expect(parsed == .plan(plan))
        #expect(plan.requiredDocuments.first { $0.code == "medical_report" }?.required == true)
        #expect(plan.requiredDocuments.first { $0.code == "receipts" }?.required == true)
        #expect(plan.fields.first { $0.key == "event_kind" }?.value == "Болезнь или травма")
        #expect(plan.fields.first { $0.key == "expenses" }?.value == "1\u{00A0}500\u{00A0}₽")
        #expect(plan.summary.contains("25.11.2026"))
    }

    @Test func canonicalTextIsWhatJSONEncoderWritesWithSortedKeys() throws {
        let tricky = "кавычка \" слэш / обратный \\ перевод\nстроки\tтаб \u{1} <script> 😀"
        var plan = try #require(
            BuiltInPlanner(catalog: .standard).plan(for: claim(), submissionID: "sub_1", generatedAt: tricky))
        plan.fields.append(.init(key: "k", label: tricky, value: ""))
        plan.requiredDocuments.append(RequiredDocument(code: "c", title: tricky, required: false, hint: tricky))
        plan.requiredDocuments.append(RequiredDocument(code: "d", title: "t"))
        for candidate in [
            plan,
            ClaimPlan(
                sessionToken: "t", claimID: "c", submissionID: "s", typeCode: "x",
                title: "", summary: "", fields: [], requiredDocuments: [], nextSteps: []),
        ] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(candidate.jsonText() == String(decoding: try encoder.encode(candidate), as: UTF8.self))
            #expect(try JSONDecoder().decode(ClaimPlan.self, from: Data(candidate.jsonText().utf8)) == candidate)
        }
    }

    @Test func invalidPlanNamesTheFieldInsideAnEnvelopeToo() throws {
        for text in [
            #"{"version":1,"session_token":"t","claim_id":"c","submission_id":"s","type_code":"x","title":"t","summary":"s","fields":[{"key":"k"}],"required_documents":[],"next_steps":[]}"#,
            #"{"event":"claim_plan_ready","data":{"version":1,"session_token":"t","claim_id":"c","submission_id":"s","type_code":"x","title":"t","summary":"s","fields":[{"key":"k"}],"required_documents":[],"next_steps":[]}}"#,
        ] {
            #expect(
                throws: PlanValidationError(
                    code: "missing_field", message: "`fields[0].label` is required", submissionID: "s")
            ) {
                try ClaimPlan.parse(Array(text.utf8), sessionToken: "t")
            }
        }
    }

    @Test func invalidUTF8AndNullFieldsAreNamed() throws {
        #expect(throws: PlanValidationError(code: "invalid_json", message: "plan payload is not valid JSON")) {
            try ClaimPlan.parse([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], sessionToken: "t")
        }
        let text = #"{"version":1,"session_token":null}"#
        #expect(throws: PlanValidationError(code: "invalid_field", message: "`session_token` must not be null")) {
            try ClaimPlan.parse(Array(text.utf8), sessionToken: "t")
        }
    }

    @Test func envelopeFormIsAccepted() throws {
        let plan = try #require(
            BuiltInPlanner(catalog: .standard).plan(for: claim(), submissionID: "sub_1", generatedAt: "x"))
        let wrapped = "{\"event\":\"claim_plan_ready\",\"data\":\(plan.jsonText())}"
        #expect(try ClaimPlan.parse(Array(wrapped.utf8), sessionToken: "tok_abcdefghijklmnop") == .plan(plan))
    }

    @Test func workflowErrorEnvelopeNamesTheSubmission() throws {
        let text = #"{"event":"claim_plan_error","data":{"submission_id":"sub_9","message":"CRM down"}}"#
        #expect(
            try ClaimPlan.parse(Array(text.utf8), sessionToken: "t")
                == .workflowError(submissionID: "sub_9", message: "CRM down"))
    }

    @Test(arguments: [
        ("not json", "invalid_json"),
        ("[1,2]", "invalid_json"),
        (#"{"version":1}"#, "missing_field"),
        (#"{"event":"claim_plan_ready","data":5}"#, "missing_field"),
        (#"{"event":"surprise","data":{}}"#, "invalid_field"),
        (#"{"version":1,"version":1}"#, "invalid_json"),  // duplicate keys
        (String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), "invalid_json"),
        ("{\"version\":\"\u{FFFD}\"}".replacing("\u{FFFD}", with: "\\ud800"), "invalid_json"),  // lone surrogate
        (#"{"version":1.5}"#, "invalid_field"),
        ("", "invalid_json"),
    ])
    func invalidPayloadsAreRejectedWithACode(payload: String, code: String) {
        #expect {
            try ClaimPlan.parse(Array(payload.utf8), sessionToken: "tok_abcdefghijklmnop")
        } throws: { ($0 as? PlanValidationError)?.code == code }
    }

    @Test func mismatchedTokenWrongVersionAndEmptyTitleAreRejectedKeepingTheSubmission() throws {
        let plan = try #require(
            BuiltInPlanner(catalog: .standard).plan(for: claim(), submissionID: "sub_7", generatedAt: "x"))
        var other = plan
        other.sessionToken = "someone_elses_token"
        var old = plan
        old.version = 2
        var blank = plan
        blank.title = " "
        for (candidate, code) in [(other, "token_mismatch"), (old, "unsupported_version"), (blank, "invalid_field")] {
            #expect {
                try ClaimPlan.parse(Array(candidate.jsonText().utf8), sessionToken: "tok_abcdefghijklmnop")
            } throws: { error in
                let error = error as? PlanValidationError
                return error?.code == code && error?.submissionID == "sub_7"
            }
        }
    }

    @Test func missingFieldIsNamed() {
        let payload =
            #"{"version":1,"session_token":"t","claim_id":"c","submission_id":"s","type_code":"travel","summary":"x","fields":[],"required_documents":[],"next_steps":[]}"#
        #expect {
            try ClaimPlan.parse(Array(payload.utf8), sessionToken: "t")
        } throws: { ($0 as? PlanValidationError)?.message.contains("title") == true }
    }

    @Test func oversizedPayloadIsRejectedBeforeParsing() {
        let payload = [UInt8](repeating: 32, count: ClaimPlan.maxPayloadBytes + 1)
        #expect { try ClaimPlan.parse(payload, sessionToken: "t") } throws: {
            ($0 as? PlanValidationError)?.code == "too_large"
        }
    }

    @Test func rublesAreFormattedTheRussianWay() {
        #expect(BuiltInPlanner.formatRubles(12345.67) == "12\u{00A0}345,67\u{00A0}₽")
        #expect(BuiltInPlanner.formatRubles(0) == "0\u{00A0}₽")
        #expect(BuiltInPlanner.formatRubles(1_000_000) == "1\u{00A0}000\u{00A0}000\u{00A0}₽")
    }
}
