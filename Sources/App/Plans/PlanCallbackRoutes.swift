import AppCore
import FoundationEssentials
import HTTPServer
import Logging

/// `POST /api/v1/claim-plan/{session_token}`: the workflow's HTTP alternative to `PUBLISH` (for workflows
/// without Redis access), signed like our webhooks (``WebhookSignature``). The body is what would be published:
/// the plan, or the `claim_plan_ready` / `claim_plan_error` envelope. It takes the same path as a Redis message
/// (``PlanIntake``): validated, stored once per (token, submission), streamed once.
struct PlanCallbackRoutes: Sendable {
    /// Nil when no n8n secret is configured: the route then answers 404.
    let signature: WebhookSignature?
    let store: any OutboxStore
    let intake: PlanIntake
    /// Set when plans travel over Redis: a plan stored here is also published, so the instance that holds the
    /// person's stream (maybe another one) delivers it from its store.
    let fanOut: (any PlanBus)?
    let logger: Logger

    func register(in router: inout Router) {
        router.post("/api/v1/claim-plan/:session_token", use: receive)
    }

    @Sendable func receive(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let signature else { throw APIError(404, "not_found", "Не найдено") }
        let token = request.parameters["session_token"] ?? ""
        guard PlanStreamRoutes.isWellFormedToken(token) else {
            throw APIError(404, "stream_not_found", "Заявка не найдена")
        }
        if let type = request.headers["Content-Type"], !type.lowercased().hasPrefix("application/json") {
            throw APIError(415, "unsupported_media_type", "Ожидается application/json")
        }
        let now = Date()
        let key: String
        do {
            key = try signature.verify(
                timestamp: request.headers[WebhookSignature.timestampHeader],
                signature: request.headers[WebhookSignature.signatureHeader], body: request.body, now: now)
        } catch {
            logger.warning("plan callback refused", metadata: ["reason": "\(error)"])
            throw APIError(401, "bad_signature", "Подпись запроса неверна или устарела")
        }
        let fresh = try await store.rememberCallbackSignature(
            key, receivedAt: now, forgetBefore: now.addingTimeInterval(-2 * WebhookSignature.tolerance))
        guard fresh else {
            logger.warning("plan callback replay refused")
            throw APIError(409, "replay", "Этот запрос уже был принят")
        }
        let message = PlanMessage(channel: PlanMessage.channel(for: token), payload: request.body)
        let outcome = try await intake.handle(message)
        switch outcome {
        case .stored:
            if let fanOut {
                do {
                    try await fanOut.publish(message)
                } catch {
                    // Stored already: a stream elsewhere still gets it from the store when it (re)connects.
                    logger.warning("plan callback not fanned out", metadata: ["error": String(reflecting: error)])
                }
            }
            return JSONResponse.make(.object(["status": .string("stored")]))
        case .duplicate:
            return JSONResponse.make(.object(["status": .string("duplicate")]))
        case .unknownToken:
            throw APIError(404, "stream_not_found", "Заявка не найдена")
        case .invalid(let code, let message):
            throw APIError(422, code, message)
        }
    }
}
