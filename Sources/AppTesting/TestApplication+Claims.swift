import AppCore
import Foundation

/// A step of a test scenario did not get the answer it needs to continue.
public struct ScenarioFailure: Error, CustomStringConvertible {
    public var description: String

    public init(_ step: String, _ response: TestResponse) {
        description = "\(step): HTTP \(response.status) \(response.text.prefix(500))"
    }

    public init(_ description: String) { self.description = description }
}

/// A claim after a successful `POST /api/v1/claims/wizard`.
public struct Submission: Sendable, Equatable {
    public var claimID: String
    public var sessionToken: String
    public var submissionID: String
    public var streamURL: String
    public var revision: Int
}

extension TestApplication {
    /// The phone used by default: a Moscow mobile number.
    public static let phone = "+79161234567"

    // MARK: - Login

    /// `POST /api/v1/auth/phone`.
    public func requestCode(phone: String = TestApplication.phone) async throws -> TestResponse {
        try await json("POST", "/api/v1/auth/phone", ["phone": phone])
    }

    /// `POST /api/v1/auth/phone/verify`.
    public func verifyCode(_ code: String, phone: String = TestApplication.phone) async throws -> TestResponse {
        try await json("POST", "/api/v1/auth/phone/verify", ["phone": phone, "code": code])
    }

    /// The code of the latest `one-time code for … : 123456` log entry, as ``LogCodeSender`` writes it.
    public var lastLoginCode: String? {
        logs.entries.last { $0.message.hasPrefix("one-time code for ") }
            .flatMap { $0.message.split(separator: " ").last.map(String.init) }
    }

    /// Requests a code, reads it from the log and verifies it.
    /// - Returns: the session cookie as `clpr_session=<value>`, ready for the `Cookie` header.
    /// - Throws: ``ScenarioFailure`` when a step does not succeed.
    public func login(phone: String = TestApplication.phone) async throws -> String {
        let requested = try await requestCode(phone: phone)
        guard requested.status == 200 else { throw ScenarioFailure("request code", requested) }
        guard let code = lastLoginCode else { throw ScenarioFailure("no one-time code in the log") }
        let verified = try await verifyCode(code, phone: phone)
        guard verified.status == 200 else { throw ScenarioFailure("verify code", verified) }
        guard let cookie = Self.sessionCookie(in: verified) else {
            throw ScenarioFailure("no session cookie", verified)
        }
        return cookie
    }

    /// `clpr_session=<value>` from a response's `Set-Cookie` fields.
    public static func sessionCookie(in response: TestResponse) -> String? {
        response.values("Set-Cookie").lazy.compactMap { field -> String? in
            let pair = field.split(separator: ";")[0].trimmingCharacters(in: .whitespaces)
            return pair.hasPrefix("clpr_session=") && pair.count > "clpr_session=".count ? pair : nil
        }.first
    }

    // MARK: - Claims

    /// Answers that pass validation on submit for each type of ``ClaimCatalog/standard``.
    public static func completeAnswers(for typeCode: String) -> [String: String] {
        switch typeCode {
        case "travel":
            [
                "policy_number": "ВЗР-123456789", "event_kind": "medical", "trip_country": "Турция",
                "trip_start": "2025-07-01", "event_date": "2025-07-03", "description": "Травма ноги на пляже",
                "expenses": "12345.67", "contacted_assistance": "yes",
            ]
        case "property":
            [
                "policy_number": "ИМ-2026-000123", "damage_kind": "flood", "event_date": "2025-10-05",
                "address": "Москва, ул. Тверская, д. 1, кв. 2", "description": "Залив с верхнего этажа",
                "estimated_damage": "50000", "authorities_notified": "no",
            ]
        case "osago":
            [
                "policy_number": "ХХХ 0123456789", "event_date": "2025-09-01",
                "event_place": "Москва, Ленинский пр., 10",
                "vehicle_plate": "А123ВС777", "registration": "europrotocol", "injuries": "no",
                "description": "Столкновение при перестроении",
            ]
        default: [:]
        }
    }

    /// `POST /api/v1/claims` → the new draft.
    /// - Throws: ``ScenarioFailure`` unless the answer is 201.
    public func createDraft(type typeCode: String = "travel", cookie: String) async throws -> JSONValue {
        let response = try await json("POST", "/api/v1/claims", ["type_code": typeCode], cookie: cookie)
        guard response.status == 201, let claim = response.json else { throw ScenarioFailure("create draft", response) }
        return claim
    }

    /// `POST /api/v1/claims/wizard` for an existing claim.
    public func submit(
        claimID: String, answers: [String: String], revision: Int? = nil, cookie: String
    ) async throws -> TestResponse {
        try await json(
            "POST", "/api/v1/claims/wizard", WizardBody(claimID: claimID, answers: answers, revision: revision),
            cookie: cookie)
    }

    /// Creates a draft of `typeCode` and submits it with `answers` (complete ones by default).
    /// - Throws: ``ScenarioFailure`` unless the submission is accepted (202).
    public func submitNewClaim(
        type typeCode: String = "travel", answers: [String: String]? = nil, cookie: String
    ) async throws -> Submission {
        let draft = try await createDraft(type: typeCode, cookie: cookie)
        guard let claimID = draft["claim_id"]?.string, let revision = draft["revision"]?.int else {
            throw ScenarioFailure("draft without claim_id/revision")
        }
        let response = try await submit(
            claimID: claimID, answers: answers ?? Self.completeAnswers(for: typeCode), revision: revision,
            cookie: cookie)
        return try Self.submission(from: response)
    }

    /// Reads the 202 answer of the wizard endpoint.
    /// - Throws: ``ScenarioFailure`` for any other answer.
    public static func submission(from response: TestResponse) throws -> Submission {
        guard response.status == 202, let body = response.json, let claimID = body["claim_id"]?.string,
            let token = body["session_token"]?.string, let submissionID = body["submission_id"]?.string,
            let streamURL = body["stream_url"]?.string, let revision = body["revision"]?.int
        else { throw ScenarioFailure("submit", response) }
        return Submission(
            claimID: claimID, sessionToken: token, submissionID: submissionID, streamURL: streamURL,
            revision: revision)
    }

    /// `GET /api/v1/claims/{id}` → the claim.
    /// - Throws: ``ScenarioFailure`` unless the answer is 200.
    public func claim(_ claimID: String, cookie: String) async throws -> JSONValue {
        let response = try await json("GET", "/api/v1/claims/\(claimID)", cookie: cookie)
        guard response.status == 200, let claim = response.json else { throw ScenarioFailure("get claim", response) }
        return claim
    }

    /// Polls the claim until its `plan` is set; the plan, or nil after `timeout`.
    public func waitForPlan(
        claimID: String, cookie: String, timeout: Duration = .seconds(10)
    ) async throws -> JSONValue? {
        var plan: JSONValue?
        _ = try await eventually(timeout: timeout, every: .milliseconds(50)) {
            let current = try await claim(claimID, cookie: cookie)["plan"]
            if let current, !current.isNull { plan = current }
            return plan != nil
        }
        return plan
    }

    struct WizardBody: Encodable {
        var claimID: String
        var answers: [String: String]
        var revision: Int?

        enum CodingKeys: String, CodingKey {
            case claimID = "claim_id"
            case answers, revision
        }
    }
}
