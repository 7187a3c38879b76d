import AppCore
import Foundation

/// The outbox of ``InMemoryStore``: what it keeps, with the SQL stores' semantics.
struct InMemoryOutbox: Sendable {
    struct Row: Sendable {
        var item: OutboxItem
        var leaseOwner: String?
        var leaseUntil: Date?
    }

    var rows: [Row] = []
    var nextID: Int64 = 1
    var signatures: [String: Date] = [:]
    var contactIDs: [String: String] = [:]

    mutating func enqueue(_ messages: [OutboxMessage], now: Date) {
        for message in messages {
            if let index = rows.firstIndex(where: { $0.item.kind == message.kind && $0.item.key == message.key }) {
                guard message.resendWhenFinished, rows[index].item.state != .pending else { continue }
                rows[index] = Row(
                    item: OutboxItem(
                        id: rows[index].item.id, kind: message.kind, key: message.key, body: message.body,
                        state: .pending, attempts: 0, createdAt: now, nextAttemptAt: now))
            } else {
                rows.append(
                    Row(
                        item: OutboxItem(
                            id: nextID, kind: message.kind, key: message.key, body: message.body, state: .pending,
                            attempts: 0, createdAt: now, nextAttemptAt: now)))
                nextID += 1
            }
        }
    }
}

extension InMemoryStore: OutboxStore {
    public func enqueue(_ messages: [OutboxMessage], now: Date) async throws {
        outbox.enqueue(messages, now: now)
    }

    public func insertClaim(_ claim: Claim, enqueueing messages: [OutboxMessage]) async throws {
        try await insertClaim(claim)
        outbox.enqueue(messages, now: Date())
    }

    public func updateClaim(
        id: String, enqueueing change: @escaping @Sendable (inout Claim) throws -> [OutboxMessage]
    ) async throws -> Claim {
        var messages: [OutboxMessage] = []
        let claim = try updateClaimSynchronously(id: id) { claim in messages = try change(&claim) }
        outbox.enqueue(messages, now: Date())
        return claim
    }

    /// Links, then enqueues; the actor's methods it awaits never suspend, so nothing interleaves in between.
    public func linkTelegramPhone(
        telegramID: Int64, phone: String, enqueueing messages: [OutboxMessage]
    ) async throws -> PhoneLink {
        let link = try await linkTelegramPhone(telegramID: telegramID, phone: phone)
        outbox.enqueue(messages, now: Date())
        return link
    }

    public func leaseOutboxItems(
        kind: OutboxKind, now: Date, limit: Int, leaseUntil: Date, owner: String
    ) async throws -> [OutboxItem] {
        var leased: [OutboxItem] = []
        let due = outbox.rows.indices.filter { index in
            let row = outbox.rows[index]
            return row.item.state == .pending && row.item.kind == kind && row.item.nextAttemptAt <= now
                && (row.leaseUntil.map { $0 < now } ?? true)
        }.sorted { outbox.rows[$0].item.nextAttemptAt < outbox.rows[$1].item.nextAttemptAt }
        for index in due.prefix(max(0, limit)) {
            outbox.rows[index].leaseOwner = owner
            outbox.rows[index].leaseUntil = leaseUntil
            outbox.rows[index].item.attempts += 1
            leased.append(outbox.rows[index].item)
        }
        return leased
    }

    public func completeOutboxItem(id: Int64, owner: String, _ completion: OutboxCompletion) async throws -> Bool {
        guard let index = outbox.rows.firstIndex(where: { $0.item.id == id && $0.leaseOwner == owner }) else {
            return false
        }
        outbox.rows[index].leaseOwner = nil
        outbox.rows[index].leaseUntil = nil
        switch completion {
        case .sent(let at):
            outbox.rows[index].item.state = .sent
            outbox.rows[index].item.finishedAt = at
            outbox.rows[index].item.lastError = nil
        case .retry(let at, let error):
            outbox.rows[index].item.nextAttemptAt = at
            outbox.rows[index].item.lastError = error
        case .dead(let at, let error):
            outbox.rows[index].item.state = .dead
            outbox.rows[index].item.finishedAt = at
            outbox.rows[index].item.lastError = error
        }
        return true
    }

    public func outboxItems(states: [OutboxState], limit: Int) async throws -> [OutboxItem] {
        Array(outbox.rows.map(\.item).filter { states.contains($0.state) }.sorted { $0.id > $1.id }.prefix(limit))
    }

    public func outboxDepth() async throws -> OutboxDepth {
        let items = outbox.rows.map(\.item)
        let pending = items.filter { $0.state == .pending }
        return OutboxDepth(
            pending: pending.count, dead: items.filter { $0.state == .dead }.count,
            oldestPendingCreatedAt: pending.map(\.createdAt).min())
    }

    public func rememberCallbackSignature(
        _ signature: String, receivedAt: Date, forgetBefore: Date
    ) async throws -> Bool {
        outbox.signatures = outbox.signatures.filter { $0.value >= forgetBefore }
        guard outbox.signatures[signature] == nil else { return false }
        outbox.signatures[signature] = receivedAt
        return true
    }

    public func setCRMContactID(_ contactID: String, phone: String) async throws {
        outbox.contactIDs[phone] = contactID
    }

    public func crmContactID(unifiedID: String) async throws -> String? {
        guard let phone = try await user(unifiedID: unifiedID)?.phone else { return nil }
        return outbox.contactIDs[phone]
    }
}
