import AppCore
import Crypto
import FoundationEssentials
import HTTPServer
import Logging

/// `GET /api/v1/claim-plan/{session_token}`: the SSE stream that delivers the claim plan (ARCHITECTURE §4).
struct PlanStreamRoutes: Sendable {
    let store: any ClaimStore
    let authenticator: Authenticator
    let hub: StreamHub
    let planTimeout: Duration
    /// Streams this instance holds at most; the next one is answered 503 with `Retry-After`.
    let maxStreams: Int
    let logger: Logger

    func register(in router: inout Router) {
        router.get("/api/v1/claim-plan/:session_token", use: stream)
    }

    static func isWellFormedToken(_ token: String) -> Bool { Crypto.isBase64URL(token, lengths: 8...128) }

    /// The answer beyond ``maxStreams``: come back in a few seconds (or at another instance). Open streams are
    /// never evicted to make room.
    static let tooManyStreams = APIError(
        503, "too_many_streams", "Сервер перегружен. Повторите через несколько секунд", headers: ["Retry-After": "5"])

    @Sendable func stream(_ request: HTTPRequest) async throws -> HTTPResponse {
        // Cheap early refusal before any lookup; the registration below enforces the cap exactly.
        guard hub.count < maxStreams else { throw Self.tooManyStreams }
        let session = try await authenticator.require(request)
        let token = request.parameters["session_token"] ?? ""
        // Someone else's token gets the same 404 as an unknown one: a token reveals nothing.
        guard Self.isWellFormedToken(token), let claim = try await store.planStreamClaim(sessionToken: token),
            claim.unifiedID == session.unifiedID
        else {
            throw APIError(404, "stream_not_found", "Заявка не найдена")
        }
        if let expiresAt = claim.expiresAt, expiresAt <= Date() {
            throw APIError(410, "expired", "Срок действия черновика истёк")
        }
        guard claim.isSubmissionCurrent, let submissionID = claim.submissionID, let submittedAt = claim.submittedAt
        else {
            // Never submitted, or edited since: the stored plan describes answers that no longer exist.
            throw APIError(409, "not_submitted", "Заявка ещё не отправлена или изменена после отправки")
        }
        let stream = ResponseStream()
        let listener = StreamHub.Listener(
            token: token, submissionID: submissionID, deadline: submittedAt.adding(planTimeout), stream: stream)
        // Register FIRST, then read what is stored: a plan published in between is buffered by the listener.
        guard hub.register(listener, limit: maxStreams) else {
            logger.warning("stream refused: open stream limit reached", metadata: ["limit": String(maxStreams)])
            throw Self.tooManyStreams
        }
        let stored: PlanRecord?
        do {
            stored = try await store.planRecord(sessionToken: token, submissionID: submissionID)
        } catch {
            hub.remove(listener)
            throw error
        }
        let opening = listener.open(lastEventID: request.headers["Last-Event-ID"], stored: stored?.outcome, now: Date())
        switch opening {
        case .noContent:
            hub.remove(listener)
            return HTTPResponse(status: 204, headers: ["Cache-Control": "no-store"])
        case .stream(let events, let finish):
            // Jitter spreads reconnects after a restart: 2–3 s.
            let retry = 2000 + Int(Crypto.randomBytes(2).withUnsafeBytes { $0.load(as: UInt16.self) } % 1000)
            stream.write(Array("retry: \(retry)\n\n".utf8))
            for event in events { stream.write(event.bytes) }
            if finish {
                hub.remove(listener)
                stream.finish()
            } else {
                stream.onClose { [hub] in hub.remove(listener) }
            }
            return HTTPResponse(
                status: 200,
                headers: [
                    "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-transform",
                    "X-Accel-Buffering": "no",
                ],
                body: .stream(stream))
        }
    }
}
