import AppCore
import FoundationEssentials
import HTTPClient
import Logging

/// Sends outbox items of one kind as signed JSON `POST`s to one webhook URL; any 2xx ends the item.
struct WebhookSender: OutboxSender {
    let kind: OutboxKind
    let url: String
    /// Signs the body when set (n8n); nil sends it unsigned.
    let signature: WebhookSignature?
    let client: HTTPClient
    /// Called with a 2xx response's body (the CRM's `contact_id`); its failure does not fail the delivery.
    var onDelivered: (@Sendable (OutboxItem, [UInt8]) async -> Void)?

    func send(_ item: OutboxItem, timeout: Duration) async -> OutboxSendResult {
        let body = Array(item.body.utf8)
        var headers = [("Content-Type", "application/json"), ("Idempotency-Key", item.key)]
        if let signature { headers += signature.headers(body: body) }
        do {
            let response = try await client.post(url: url, headers: headers, body: body, timeout: timeout)
            guard (200..<300).contains(response.status) else { return .failed("HTTP \(response.status)") }
            await onDelivered?(item, response.body)
            return .delivered
        } catch let failure as HTTPClient.Failure {
            return .failed("\(failure.code): \(failure.message)")
        } catch {
            return .failed("\(error)")
        }
    }
}
