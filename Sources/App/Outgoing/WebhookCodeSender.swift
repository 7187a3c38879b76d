import AppCore
import FoundationEssentials
import HTTPClient
import Logging

/// Sends login codes to a signed webhook (an n8n workflow or an SMS gateway that texts the person):
/// `POST <url>` with `{"phone": "+79161234567", "code": "123456", "text": "…", "expires_in": 300}` and the
/// ``WebhookSignature`` headers. Any status but 2xx, or no answer, is a failure the caller reports as 503.
/// Nothing of the code or the full phone is logged here.
struct WebhookCodeSender: CodeSender {
    let webhook: Application.Configuration.Webhook
    let client: HTTPClient
    let lifetime: Duration
    let logger: Logger

    struct Failed: Error, CustomStringConvertible {
        var status: Int?
        var description: String { "code webhook failed (status \(status.map(String.init) ?? "none"))" }
    }

    func send(code: String, to phone: PhoneNumber) async throws {
        let body = CompactJSON.bytes(
            .object([
                "phone": .string(phone.e164), "code": .string(code),
                "text": .string("Код для входа в clpr: \(code). Никому его не сообщайте."),
                "expires_in": .number(Double(lifetime.secondsRoundedUp)),
            ]))
        let headers =
            [("Content-Type", "application/json")]
            + WebhookSignature(secret: webhook.secret).headers(body: body)
        let response: HTTPClient.Response
        do {
            response = try await client.post(url: webhook.url, headers: headers, body: body, timeout: .seconds(10))
        } catch {
            logger.warning(
                "code webhook unreachable",
                metadata: ["phone": phone.masked, "webhook": webhook.description, "error": "\(error)"])
            throw Failed(status: nil)
        }
        guard (200..<300).contains(response.status) else {
            logger.warning(
                "code webhook refused",
                metadata: ["phone": phone.masked, "webhook": webhook.description, "status": "\(response.status)"])
            throw Failed(status: response.status)
        }
        logger.info("code sent", metadata: ["phone": phone.masked])
    }
}
