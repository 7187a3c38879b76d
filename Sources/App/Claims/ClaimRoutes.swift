import AppCore
import Crypto
import FoundationEssentials
import HTTPServer
import Logging

/// Drafts, the wizard, submission, confirmation. Every route checks that the session's person owns the claim.
struct ClaimRoutes: Sendable {
    let store: any ClaimStore
    let identity: any IdentityStore
    /// The same store's outbox: the planner's calls are written in the submission's transaction.
    let outbox: any OutboxStore
    let authenticator: Authenticator
    let catalog: ClaimCatalog
    let planner: any Planner
    let draftLifetime: Duration
    let logger: Logger

    func register(in router: inout Router) {
        router.get("/api/v1/claim-types", use: claimTypes)
        router.get("/api/v1/claims/drafts", use: drafts)
        router.get("/api/v1/claims", use: allClaims)
        router.post("/api/v1/claims", use: create)
        router.post("/api/v1/claims/wizard", use: submit)
        router.get("/api/v1/claims/:claim_id", use: show)
        router.put("/api/v1/claims/:claim_id/draft", use: saveDraft)
        router.post("/api/v1/claims/:claim_id/confirm", use: confirm)
        router.post("/api/v1/claims/:claim_id/cancel", use: cancel)
        router.put("/api/v1/claims/:claim_id/step", use: saveStep)
    }

    /// The language of a request's person-facing texts: `?lang=`, else `Accept-Language`, else Russian.
    static func language(of request: HTTPRequest) -> UILanguage {
        UILanguage.negotiate(parameter: request.query["lang"], acceptLanguage: request.headers["Accept-Language"])
    }

    // MARK: - Reading

    @Sendable func claimTypes(_ request: HTTPRequest) async throws -> HTTPResponse {
        let language = Self.language(of: request)
        var response = JSONResponse.make(
            .object(["claim_types": .array(catalog.localized(language).types.map(CatalogJSON.make))]))
        response.headers.replace("Content-Language", language.rawValue)
        response.headers.replace("Vary", "Accept-Language")
        return response
    }

    @Sendable func drafts(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let drafts = try await store.drafts(unifiedID: session.unifiedID, limit: 20)
        return JSONResponse.make(.object(["drafts": .array(drafts.map { ClaimJSON.make($0, catalog: catalog) })]))
    }

    @Sendable func allClaims(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let claims = try await store.claims(unifiedID: session.unifiedID, limit: 50)
        return JSONResponse.make(.object(["claims": .array(claims.map { ClaimJSON.make($0, catalog: catalog) })]))
    }

    @Sendable func show(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let claim = try await ownedClaim(request.parameters["claim_id"], session: session)
        return JSONResponse.make(ClaimJSON.make(claim, catalog: catalog))
    }

    /// The claim if it exists and belongs to the session's person.
    /// - Throws: 404 for unknown or malformed ids and for someone else's claim alike, so an id reveals nothing.
    func ownedClaim(_ id: String?, session: Session) async throws -> Claim {
        guard let id = id.flatMap(Self.canonicalID), let claim = try await store.claim(id: id) else {
            throw APIError.claimNotFound
        }
        guard claim.unifiedID == session.unifiedID else { throw APIError.claimNotFound }
        return claim
    }

    /// Lowercase UUID text, or nil if `text` is not a UUID.
    static func canonicalID(_ text: String) -> String? { UUID(uuidString: text)?.uuidString.lowercased() }

    // MARK: - Writing

    struct CreateBody: Decodable { var type_code: String }
    struct DraftBody: Decodable {
        var answers: [String: String]
        var revision: Int
    }
    struct SubmitBody: Decodable {
        var claim_id: String?
        var type_code: String?
        var answers: [String: String]
        var revision: Int?
    }
    struct DecisionBody: Decodable { var submission_id: String }
    struct StepBody: Decodable { var step: Int }

    /// The largest wizard step stored (pages are a few questions each; the check page is one past the last).
    static let maxWizardStep = 100

    @Sendable func create(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let body = try JSONBody.decode(CreateBody.self, from: request)
        let claim = try await newDraft(typeCode: body.type_code, session: session)
        return JSONResponse.make(status: 201, ClaimJSON.make(claim, catalog: catalog))
    }

    func newDraft(typeCode: String, session: Session) async throws -> Claim {
        guard catalog.type(typeCode) != nil else {
            throw APIError(422, "unknown_claim_type", "Выберите вид заявки из списка", field: "type_code")
        }
        let user = try await identity.user(unifiedID: session.unifiedID)
        let now = Date()
        let claim = Claim(
            id: UUID().uuidString.lowercased(), sessionToken: Crypto.randomToken(), unifiedID: session.unifiedID,
            userID: session.userID, channel: session.channel, typeCode: typeCode, phone: user?.phone,
            statusHistory: [StatusChange(status: .draft, at: now)], createdAt: now, updatedAt: now,
            expiresAt: now.adding(draftLifetime))
        try await store.insertClaim(claim)
        logger.info("draft created", metadata: ["claim_id": claim.id, "type_code": typeCode])
        return claim
    }

    @Sendable func saveDraft(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let body = try JSONBody.decode(DraftBody.self, from: request)
        let existing = try await ownedClaim(request.parameters["claim_id"], session: session)
        let type = try claimType(of: existing)
        let problems = AnswerValidator(type: type, today: Self.today()).validate(body.answers, complete: false)
        guard problems.isEmpty else { throw Self.validationError(problems) }
        let catalog = self.catalog
        let claim = try await update(existing.id) { claim in
            try Self.checkEditable(claim, revision: body.revision, catalog: catalog)
            if claim.answers != body.answers {
                claim.answers = body.answers
                claim.revision += 1
                claim.updatedAt = Date()
            }
        }
        return JSONResponse.make(ClaimJSON.make(claim, catalog: catalog))
    }

    /// `PUT …/step`: remembers the wizard page the person is on, so another device resumes there. Not part of the
    /// answers: no revision check and no new revision (the last page opened wins).
    @Sendable func saveStep(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let body = try JSONBody.decode(StepBody.self, from: request)
        guard (1...Self.maxWizardStep).contains(body.step) else {
            throw APIError(
                422, "invalid_field", "Шаг должен быть числом от 1 до \(Self.maxWizardStep)", field: "step")
        }
        let existing = try await ownedClaim(request.parameters["claim_id"], session: session)
        guard existing.status == .draft else { throw APIError(409, "not_a_draft", "Заявка уже отправлена") }
        if existing.wizardStep != body.step {
            let step = body.step
            _ = try await update(existing.id) { claim in
                guard claim.status == .draft else { throw APIError(409, "not_a_draft", "Заявка уже отправлена") }
                claim.wizardStep = step
            }
        }
        return HTTPResponse(status: 204)
    }

    @Sendable func submit(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let body = try JSONBody.decode(SubmitBody.self, from: request)
        let existing: Claim
        if let id = body.claim_id {
            existing = try await ownedClaim(id, session: session)
        } else {
            guard let typeCode = body.type_code else {
                throw APIError(400, "missing_field", "Укажите claim_id или type_code", field: "claim_id")
            }
            // Validate before creating, so a rejected submission leaves no empty draft behind.
            if let type = catalog.type(typeCode) {
                let problems = AnswerValidator(type: type, today: Self.today()).validate(body.answers, complete: true)
                guard problems.isEmpty else { throw Self.validationError(problems) }
            }
            existing = try await newDraft(typeCode: typeCode, session: session)
        }
        let type = try claimType(of: existing)
        let problems = AnswerValidator(type: type, today: Self.today()).validate(body.answers, complete: true)
        guard problems.isEmpty else { throw Self.validationError(problems) }
        // A failed outcome is final for its submission: a retry after it needs a fresh submission id.
        let previousFailed: Bool
        if let current = existing.submissionID,
            case .failed? = try await store.planRecord(sessionToken: existing.sessionToken, submissionID: current)?
                .outcome
        {
            previousFailed = true
        } else {
            previousFailed = false
        }
        let catalog = self.catalog
        let revision = body.revision
        let planner = self.planner
        let claim = try await updateEnqueueing(existing.id) { claim in
            try Self.checkEditable(claim, revision: revision ?? claim.revision, catalog: catalog)
            let now = Date()
            if claim.answers != body.answers {
                claim.answers = body.answers
                claim.revision += 1
            }
            // The same revision submitted again (a retry) keeps its submission id: the workflow deduplicates by it.
            if claim.submissionID == nil || claim.submittedRevision != claim.revision || previousFailed {
                claim.submissionID = "sub_" + Crypto.randomToken(bytes: 16)
                claim.submittedRevision = claim.revision
            }
            claim.submittedAt = now  // the plan deadline counts from the latest (re)submission
            claim.updatedAt = now
            // The hand-off to the workflow (n8n: a webhook call) is written with the submission, or not at all.
            guard let submissionID = claim.submissionID else { return [] }
            return planner.outboxMessages(for: claim, submissionID: submissionID)
        }
        guard let submissionID = claim.submissionID else { throw APIError.unavailable() }
        await planner.requestPlan(for: claim, submissionID: submissionID)
        logger.info("claim submitted", metadata: ["claim_id": claim.id, "submission_id": submissionID])
        return JSONResponse.make(
            status: 202,
            .object([
                "claim_id": .string(claim.id), "session_token": .string(claim.sessionToken),
                "submission_id": .string(submissionID), "revision": .number(Double(claim.revision)),
                "stream_url": .string("/api/v1/claim-plan/\(claim.sessionToken)"),
            ]))
    }

    @Sendable func confirm(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let body = try JSONBody.decode(DecisionBody.self, from: request)
        let existing = try await ownedClaim(request.parameters["claim_id"], session: session)
        // Confirming again what is already confirmed is a no-op (a double click, a retried request).
        if existing.isConfirmed && existing.submissionID == body.submission_id {
            return JSONResponse.make(ClaimJSON.make(existing, catalog: catalog))
        }
        guard existing.status == .draft else {
            throw APIError(409, "not_a_draft", "Заявка уже отправлена")
        }
        guard existing.submissionID == body.submission_id else {
            throw APIError(
                409, "stale_submission", "Ответы изменились: отправьте заявку ещё раз", field: "submission_id")
        }
        guard
            case .ready(let planJSON)? = try await store.planRecord(
                sessionToken: existing.sessionToken, submissionID: body.submission_id)?.outcome
        else {
            throw APIError(409, "plan_not_ready", "План заявки ещё не готов")
        }
        guard case .plan(let plan) = try ClaimPlan.parse(Array(planJSON.utf8), sessionToken: existing.sessionToken)
        else { throw APIError(409, "plan_not_ready", "План заявки ещё не готов") }
        let submissionID = body.submission_id
        // The receipt: exactly what the confirmation page showed (in the language it was shown in), with the time.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let language = Self.language(of: request)
        let confirmedAt = ClaimJSON.iso(now)
        let receipt = ConfirmationReceipt.document(
            plan: plan, declaration: ConfirmationWording.declaration(language), language: language,
            confirmedAt: confirmedAt)
        let consent = ConsentRecord(
            submissionID: submissionID, confirmedAt: confirmedAt, language: language, receipt: receipt,
            receiptSHA256: Crypto.sha256Hex(receipt))
        let claim = try await update(existing.id) { claim in
            if claim.isConfirmed && claim.submissionID == submissionID { return }
            guard claim.status == .draft, claim.submissionID == submissionID, claim.isSubmissionCurrent else {
                throw APIError(409, "stale_submission", "Ответы изменились: отправьте заявку ещё раз")
            }
            claim.wizardPlan = planJSON
            claim.consent = consent
            claim.isConfirmed = true
            claim.status = .inWork
            claim.statusHistory.append(StatusChange(status: .inWork, at: now))
            claim.updatedAt = now
        }
        logger.info("claim confirmed", metadata: ["claim_id": claim.id, "submission_id": submissionID])
        return JSONResponse.make(ClaimJSON.make(claim, catalog: catalog))
    }

    @Sendable func cancel(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let body = try JSONBody.decode(DecisionBody.self, from: request)
        let claim = try await ownedClaim(request.parameters["claim_id"], session: session)
        guard claim.status == .draft else { throw APIError(409, "not_a_draft", "Заявка уже отправлена") }
        guard claim.submissionID == body.submission_id else {
            throw APIError(409, "stale_submission", "Эта версия заявки уже не актуальна", field: "submission_id")
        }
        // Nothing to undo: the claim stays a draft with its answers; the person edits and submits again.
        logger.info("plan declined", metadata: ["claim_id": claim.id, "submission_id": body.submission_id])
        return JSONResponse.make(ClaimJSON.make(claim, catalog: catalog))
    }

    // MARK: - Helpers

    func claimType(of claim: Claim) throws -> ClaimType {
        guard let type = catalog.type(claim.typeCode) else {
            throw APIError(409, "unknown_claim_type", "Этот вид заявки больше не поддерживается")
        }
        return type
    }

    func update(_ id: String, _ change: @escaping @Sendable (inout Claim) throws -> Void) async throws -> Claim {
        do {
            return try await store.updateClaim(id: id, change)
        } catch let error as StoreError where error.code == .notFound {
            throw APIError.claimNotFound
        }
    }

    /// ``update(_:_:)`` that also enqueues the outgoing calls `change` returns, in the same transaction.
    func updateEnqueueing(
        _ id: String, _ change: @escaping @Sendable (inout Claim) throws -> [OutboxMessage]
    ) async throws -> Claim {
        do {
            return try await outbox.updateClaim(id: id, enqueueing: change)
        } catch let error as StoreError where error.code == .notFound {
            throw APIError.claimNotFound
        }
    }

    static func checkEditable(_ claim: Claim, revision: Int, catalog: ClaimCatalog) throws {
        guard claim.status == .draft else {
            throw APIError(409, "not_a_draft", "Заявка уже отправлена, её нельзя изменить")
        }
        guard claim.revision == revision else {
            throw APIError(
                409, "revision_conflict", "Черновик изменён в другой вкладке или на другом устройстве",
                field: "revision", extra: ["claim": ClaimJSON.make(claim, catalog: catalog)])
        }
    }

    static func validationError(_ problems: [FieldError]) -> APIError {
        APIError(
            422, "validation_failed", "Проверьте ответы", field: problems.first?.field,
            extra: [
                "fields": .array(
                    problems.map { .object(["field": .string($0.field), "message": .string($0.message)]) })
            ])
    }

    /// Today's date in Moscow time (UTC+3, no DST), the product's reference for "not in the future".
    static func today() -> CalendarDay {
        let moscow = Date().addingTimeInterval(3 * 3600)
        let components = moscow.formatted(.iso8601.year().month().day())
        return CalendarDay(iso: components) ?? CalendarDay(year: 2026, month: 1, day: 1)!
    }
}

/// The API's view of a claim type (docs/api.md, `ClaimType`).
enum CatalogJSON {
    static func make(_ type: ClaimType) -> JSONValue {
        .object([
            "code": .string(type.code), "title": .string(type.title), "description": .string(type.description),
            "questions": .array(
                type.questions.map { question in
                    var object: [String: JSONValue] = [
                        "id": .string(question.id), "label": .string(question.label), "hint": .optional(question.hint),
                        "kind": .string(question.kind.rawValue), "required": .bool(question.required),
                        "max_length": .number(Double(question.maxLength)),
                        "allows_future": .bool(question.allowsFuture),
                        "not_before": .optional(question.notBefore),
                        "options": .array(
                            question.options.map { .object(["value": .string($0.value), "label": .string($0.label)]) }),
                    ]
                    if let min = question.min { object["min"] = .number(Double(min)) }
                    if let max = question.max { object["max"] = .number(Double(max)) }
                    return .object(object)
                }),
            "documents": .array(
                type.documents.map {
                    .object([
                        "code": .string($0.code), "title": .string($0.title), "required": .bool($0.required),
                        "hint": .optional($0.hint),
                    ])
                }),
        ])
    }
}
