import AppCore
import FoundationEssentials
import HTTPServer
import Logging

/// "We will send you a message in Telegram when it is ready": a person who does not want to wait for a slow plan
/// asks to be told in Telegram instead. Offered only when the bot is configured and the person has a Telegram
/// account (signed in through the Mini App or the bot at least once).
///
/// The request is a flag on the claim (`payload.telegram_notice`, for the current submission). Whoever sees both
/// the flag and the stored plan first (the request, if the plan is already there; else ``PlanIntake`` when it
/// stores the plan) takes the flag off and enqueues the `sendMessage` in the same transaction, so the message is
/// written exactly once; the outbox dispatcher sends it (retried while the Bot API fails).
struct PlanReadyNotice: Sendable {
    let store: any ClaimStore & IdentityStore & OutboxStore
    let authenticator: Authenticator
    let dispatcher: OutboxDispatcher
    /// The bot's id (the token's public part): part of the outbox key. Nil without a bot: never offered.
    let botID: String?
    /// The Mini App's URL for the message's button (https), or nil for a message without one.
    let webAppURL: String?
    let logger: Logger

    func register(in router: inout Router) {
        router.get("/api/v1/claims/:claim_id/telegram-notice", use: show)
        router.put("/api/v1/claims/:claim_id/telegram-notice", use: request)
    }

    struct RequestBody: Decodable { var submission_id: String }

    /// `{"available", "requested"}`: whether the offer can be made, and whether it was taken for this submission.
    @Sendable func show(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let claim = try await ownedClaim(request.parameters["claim_id"], session: session)
        let chatID = botID == nil ? nil : try await store.telegramID(unifiedID: session.unifiedID)
        let requested = claim.submissionID != nil && claim.telegramNotice?.submissionID == claim.submissionID
        return JSONResponse.make(.object(["available": .bool(chatID != nil), "requested": .bool(requested)]))
    }

    @Sendable func request(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        guard botID != nil else { throw APIError(404, "telegram_disabled", "Уведомления в Telegram не настроены") }
        let body = try JSONBody.decode(RequestBody.self, from: request)
        let existing = try await ownedClaim(request.parameters["claim_id"], session: session)
        guard existing.status == .draft, !existing.isConfirmed else {
            throw APIError(409, "not_a_draft", "Заявка уже отправлена")
        }
        guard existing.submissionID == body.submission_id, existing.isSubmissionCurrent else {
            throw APIError(
                409, "stale_submission", "Ответы изменились: отправьте заявку ещё раз", field: "submission_id")
        }
        guard let chatID = try await store.telegramID(unifiedID: session.unifiedID) else {
            throw APIError(409, "telegram_not_linked", "Вы ещё не входили через Telegram")
        }
        let notice = TelegramNotice(
            submissionID: body.submission_id, chatID: chatID, language: ClaimRoutes.language(of: request))
        _ = try await store.updateClaim(
            id: existing.id,
            enqueueing: { claim in
                guard claim.status == .draft, claim.submissionID == notice.submissionID else {
                    throw APIError(409, "stale_submission", "Ответы изменились: отправьте заявку ещё раз")
                }
                claim.telegramNotice = notice
                return []
            })
        logger.info("plan notice requested", metadata: ["claim_id": existing.id, "submission_id": notice.submissionID])
        // The plan may have been stored meanwhile: then nobody else will see the flag, so the message goes now.
        if case .ready? = try await store.planRecord(
            sessionToken: existing.sessionToken, submissionID: notice.submissionID)?.outcome
        {
            try await deliver(claimID: existing.id, submissionID: notice.submissionID)
        }
        return JSONResponse.make(.object(["requested": .bool(true)]))
    }

    /// Called once a plan is stored for the claim with `sessionToken`: enqueues the message if it was asked for.
    func planReady(sessionToken: String, submissionID: String) async {
        do {
            guard let claim = try await store.claim(sessionToken: sessionToken),
                claim.telegramNotice?.submissionID == submissionID
            else { return }
            try await deliver(claimID: claim.id, submissionID: submissionID)
        } catch {
            logger.error("plan notice not enqueued", metadata: ["error": String(reflecting: error)])
        }
    }

    /// Takes the flag off and enqueues the message, in one transaction; nothing if the flag is gone already.
    func deliver(claimID: String, submissionID: String) async throws {
        guard let botID = self.botID else { return }
        let webAppURL = self.webAppURL
        _ = try await store.updateClaim(
            id: claimID,
            enqueueing: { claim in
                guard let notice = claim.telegramNotice, notice.submissionID == submissionID else { return [] }
                claim.telegramNotice = nil
                return [Self.outboxMessage(notice, botID: botID, webAppURL: webAppURL)]
            })
        dispatcher.nudge()
        logger.info("plan notice enqueued", metadata: ["claim_id": claimID, "submission_id": submissionID])
    }

    /// The `sendMessage` item, keyed by the bot and the submission (one message per submission).
    static func outboxMessage(_ notice: TelegramNotice, botID: String, webAppURL: String?) -> OutboxMessage {
        let (text, button) =
            switch notice.language {
            case .ru:
                (
                    "Ваша заявка готова. Откройте её, проверьте сведения и подтвердите заявление.",
                    "Открыть заявку"
                )
            case .en: ("Your claim is ready. Open it, check the details and confirm the claim.", "Open the claim")
            }
        let keyboard = webAppURL.map { BotMessage.Keyboard.openMiniApp(text: button, url: $0) }
        let message = BotMessage(chatID: notice.chatID, text: text, keyboard: keyboard)
        return OutboxMessage(
            kind: .telegramMessage, key: "\(botID):plan:\(notice.submissionID)",
            body: CompactJSON.encode(TelegramSender.body(message)), resendWhenFinished: false)
    }

    /// The claim if it exists and belongs to the session's person (404 otherwise, as every claim route).
    func ownedClaim(_ id: String?, session: Session) async throws -> Claim {
        guard let id = id.flatMap(ClaimRoutes.canonicalID), let claim = try await store.claim(id: id),
            claim.unifiedID == session.unifiedID
        else { throw APIError.claimNotFound }
        return claim
    }
}
