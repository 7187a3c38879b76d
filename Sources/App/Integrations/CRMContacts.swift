import AppCore
import FoundationEssentials
import Logging

/// The original system's `CreateWebContact` step: after a login, the person's phone is registered with the CRM
/// once per phone (not per login) through the outbox, and the `contact_id` it answers is kept on the user.
struct CRMContacts: Sendable {
    let store: any OutboxStore
    let dispatcher: OutboxDispatcher
    let logger: Logger

    /// Enqueues the contact call for `phone` unless one was ever enqueued for it (the outbox key is the phone).
    func contactAfterLogin(phone: String, user: User, channel: Channel) async {
        let body = CompactJSON.encode(
            .object([
                "phone": .string(phone), "unified_id": .string(user.unifiedID), "channel": .string(channel.rawValue),
            ]))
        do {
            try await store.enqueue(
                [OutboxMessage(kind: .crmContact, key: phone, body: body, resendWhenFinished: false)], now: Date())
            dispatcher.nudge()
        } catch {
            // The next login enqueues it again (same key); the login itself is not refused over the CRM.
            logger.error("crm contact not enqueued", metadata: ["error": String(reflecting: error)])
        }
    }

    /// Keeps the `contact_id` of a 2xx answer (`{"contact_id": "…"}`) on the users with the item's phone.
    static func keepContactID(of item: OutboxItem, from body: [UInt8], store: any OutboxStore, logger: Logger) async {
        guard let object = try? JSONDecoder().decode(JSONValue.self, from: Data(body)),
            case .object(let fields) = object
        else {
            logger.warning("crm answered without a JSON body: contact_id not kept")
            return
        }
        let contactID: String? =
            switch fields["contact_id"] {
            case .string(let text): text
            case .number(let number): String(Int64(number))
            default: nil
            }
        guard let contactID, !contactID.isEmpty, contactID.count <= 200 else {
            logger.warning("crm answered without contact_id")
            return
        }
        do {
            try await store.setCRMContactID(contactID, phone: item.key)
        } catch {
            logger.error("crm contact_id not stored", metadata: ["error": String(reflecting: error)])
        }
    }
}
