import AppCore
import Foundation
import Testing

/// The behaviour every ``OutboxStore`` must show (SQLite, PostgreSQL, in memory), written against the ports.
public struct OutboxContract: Sendable {
    public typealias Store = any IdentityStore & ClaimStore & OutboxStore

    public let store: Store

    public init(store: Store) { self.store = store }

    static func message(_ key: String, kind: OutboxKind = .planRequest, resend: Bool = true) -> OutboxMessage {
        OutboxMessage(kind: kind, key: key, body: #"{"submission_id":"\#(key)"}"#, resendWhenFinished: resend)
    }

    /// Enqueued with the claim's change, or not at all when the change throws.
    public func enqueueingUpdateIsAtomic() async throws {
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000011", phone: nil)
        let claim = makeClaim(for: user)
        try await store.insertClaim(claim)
        await #expect(throws: DeliberateFailure.self) {
            _ = try await store.updateClaim(id: claim.id) { (claim: inout Claim) -> [OutboxMessage] in
                claim.revision = 99
                throw DeliberateFailure(tag: 1)
            }
        }
        #expect(try await store.outboxItems(states: OutboxState.allCases, limit: 10).isEmpty)
        let updated = try await store.updateClaim(id: claim.id) { (claim: inout Claim) -> [OutboxMessage] in
            claim.submissionID = "sub-a"
            return [Self.message("sub-a")]
        }
        #expect(updated.submissionID == "sub-a")
        let items = try await store.outboxItems(states: [.pending], limit: 10)
        #expect(items.map(\.key) == ["sub-a"])
        #expect(items.first?.kind == .planRequest)
        #expect(items.first?.attempts == 0)
    }

    /// A claim inserted with its outgoing calls: both written, or (the insert fails) neither.
    public func insertingEnqueuesAtomically() async throws {
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000021", phone: nil)
        var claim = makeClaim(for: user)
        claim.submissionID = "sub-new"
        try await store.insertClaim(claim, enqueueing: [Self.message("sub-new")])
        #expect(try await store.claim(id: claim.id)?.submissionID == "sub-new")
        #expect(try await store.outboxItems(states: [.pending], limit: 10).map(\.key) == ["sub-new"])
        // The same id again: the insert fails, and its message is not written either.
        await #expect(throws: StoreError.self) {
            try await store.insertClaim(claim, enqueueing: [Self.message("sub-again")])
        }
        #expect(try await store.outboxItems(states: OutboxState.allCases, limit: 10).map(\.key) == ["sub-new"])
    }

    /// The depth counts pending and dead items (sent ones not at all) and dates the oldest pending one.
    public func depthCountsPendingAndDead() async throws {
        let empty = try await store.outboxDepth()
        #expect(empty == OutboxDepth(pending: 0, dead: 0, oldestPendingCreatedAt: nil))
        let now = testDate()
        try await store.enqueue([Self.message("old")], now: now)
        try await store.enqueue([Self.message("sent"), Self.message("dead"), Self.message("new")], now: now + 60)
        let leased = try await store.leaseOutboxItems(
            kind: .planRequest, now: now + 60, limit: 10, leaseUntil: now + 90, owner: "one")
        for item in leased {
            switch item.key {
            case "sent": #expect(try await store.completeOutboxItem(id: item.id, owner: "one", .sent(at: now)))
            case "dead":
                #expect(try await store.completeOutboxItem(id: item.id, owner: "one", .dead(at: now, error: "x")))
            default:
                #expect(
                    try await store.completeOutboxItem(
                        id: item.id, owner: "one", .retry(at: now + 120, error: "HTTP 500")))
            }
        }
        let depth = try await store.outboxDepth()
        #expect(depth.pending == 2)
        #expect(depth.dead == 1)
        #expect(depth.oldestPendingCreatedAt.map { abs($0.timeIntervalSince(now)) < 0.001 } == true)
    }

    /// The bot's replies are written with the phone link; linking again with the same keys adds none.
    public func linkingEnqueuesTheReplies() async throws {
        let replies = [
            Self.message("1:42:0", kind: .telegramMessage, resend: false),
            Self.message("1:42:1", kind: .telegramMessage, resend: false),
        ]
        let link = try await store.linkTelegramPhone(
            telegramID: 777_000_050, phone: "+79990000051", enqueueing: replies)
        #expect(link.outcome == .linked)
        let again = try await store.linkTelegramPhone(
            telegramID: 777_000_050, phone: "+79990000051", enqueueing: replies)
        #expect(again.outcome == .alreadyLinked)
        let items = try await store.outboxItems(states: [.pending], limit: 10)
        #expect(items.map(\.key).sorted() == ["1:42:0", "1:42:1"])
        #expect(items.allSatisfy { $0.kind == .telegramMessage })
    }

    /// A lease takes due items once; the holder records the end; a stranger cannot.
    public func leaseAndComplete() async throws {
        let now = testDate()
        try await store.enqueue([Self.message("a"), Self.message("b"), Self.message("c", kind: .crmContact)], now: now)
        let leased = try await store.leaseOutboxItems(
            kind: .planRequest, now: now, limit: 10, leaseUntil: now.addingTimeInterval(30), owner: "one")
        #expect(Set(leased.map(\.key)) == ["a", "b"])
        #expect(leased.allSatisfy { $0.attempts == 1 })
        // Leased: nobody else gets them until the lease runs out.
        #expect(
            try await store.leaseOutboxItems(
                kind: .planRequest, now: now.addingTimeInterval(1), limit: 10,
                leaseUntil: now.addingTimeInterval(31), owner: "two"
            ).isEmpty)
        let a = try #require(leased.first { $0.key == "a" })
        let b = try #require(leased.first { $0.key == "b" })
        #expect(!(try await store.completeOutboxItem(id: a.id, owner: "two", .sent(at: now))))
        #expect(try await store.completeOutboxItem(id: a.id, owner: "one", .sent(at: now)))
        #expect(
            try await store.completeOutboxItem(
                id: b.id, owner: "one", .retry(at: now.addingTimeInterval(5), error: "HTTP 500")))
        // Not due yet; due after its retry time.
        #expect(
            try await store.leaseOutboxItems(
                kind: .planRequest, now: now.addingTimeInterval(4), limit: 10,
                leaseUntil: now.addingTimeInterval(40), owner: "two"
            ).isEmpty)
        let retried = try await store.leaseOutboxItems(
            kind: .planRequest, now: now.addingTimeInterval(5), limit: 10, leaseUntil: now.addingTimeInterval(40),
            owner: "two")
        #expect(retried.map(\.key) == ["b"])
        #expect(retried.first?.attempts == 2)
        #expect(try await store.completeOutboxItem(id: b.id, owner: "two", .dead(at: now, error: "too old")))
        let dead = try await store.outboxItems(states: [.dead], limit: 10)
        #expect(dead.map(\.key) == ["b"])
        #expect(dead.first?.lastError == "too old")
        #expect(try await store.outboxItems(states: [.sent], limit: 10).map(\.key) == ["a"])
        // An expired lease is taken over.
        let crm = try await store.leaseOutboxItems(
            kind: .crmContact, now: now, limit: 10, leaseUntil: now.addingTimeInterval(1), owner: "one")
        #expect(crm.map(\.key) == ["c"])
        let takenOver = try await store.leaseOutboxItems(
            kind: .crmContact, now: now.addingTimeInterval(2), limit: 10, leaseUntil: now.addingTimeInterval(30),
            owner: "two")
        #expect(takenOver.map(\.key) == ["c"])
        #expect(!(try await store.completeOutboxItem(id: takenOver[0].id, owner: "one", .sent(at: now))))
    }

    /// The same key again: never a second pending item; a finished one is re-armed only when asked.
    public func repeatedKeys() async throws {
        let now = testDate()
        try await store.enqueue([Self.message("k"), Self.message("k")], now: now)
        try await store.enqueue([Self.message("phone", kind: .crmContact, resend: false)], now: now)
        #expect(try await store.outboxItems(states: [.pending], limit: 10).count == 2)
        for kind in [OutboxKind.planRequest, .crmContact] {
            for item in try await store.leaseOutboxItems(
                kind: kind, now: now, limit: 10, leaseUntil: now.addingTimeInterval(30), owner: "o")
            {
                #expect(try await store.completeOutboxItem(id: item.id, owner: "o", .sent(at: now)))
            }
        }
        try await store.enqueue(
            [Self.message("k"), Self.message("phone", kind: .crmContact, resend: false)],
            now: now.addingTimeInterval(10))
        let pending = try await store.outboxItems(states: [.pending], limit: 10)
        #expect(pending.map(\.key) == ["k"])
        #expect(pending.first?.attempts == 0)
        #expect(pending.first?.createdAt == now.addingTimeInterval(10))
        #expect(try await store.outboxItems(states: [.sent], limit: 10).map(\.key) == ["phone"])
    }

    /// Concurrent leases never hand one item to two owners.
    public func concurrentLeasesAreDisjoint() async throws {
        let now = testDate()
        try await store.enqueue((0..<200).map { Self.message("p\($0)") }, now: now)
        let batches = try await withThrowingTaskGroup(of: [String].self) { group in
            for owner in 0..<4 {
                group.addTask {
                    var keys: [String] = []
                    while true {
                        let items = try await store.leaseOutboxItems(
                            kind: .planRequest, now: now, limit: 7, leaseUntil: now.addingTimeInterval(60),
                            owner: "owner-\(owner)")
                        if items.isEmpty { return keys }
                        keys += items.map(\.key)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let all = batches.flatMap { $0 }
        #expect(all.count == 200)
        #expect(Set(all).count == 200)
    }

    /// Callback signatures: the first is fresh, the repeat a replay; old ones are forgotten.
    public func callbackSignaturesDetectReplays() async throws {
        let now = testDate()
        #expect(
            try await store.rememberCallbackSignature("s1", receivedAt: now, forgetBefore: now.addingTimeInterval(-600))
        )
        #expect(
            !(try await store.rememberCallbackSignature(
                "s1", receivedAt: now, forgetBefore: now.addingTimeInterval(-600))))
        #expect(
            try await store.rememberCallbackSignature(
                "s1", receivedAt: now.addingTimeInterval(700), forgetBefore: now.addingTimeInterval(100)))
    }

    /// The CRM contact id is kept on the user with the phone.
    public func crmContactIDIsKept() async throws {
        let user = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+79990000012", phone: "+79990000012")
        #expect(try await store.crmContactID(unifiedID: user.unifiedID) == nil)
        try await store.setCRMContactID("c-42", phone: "+79990000012")
        #expect(try await store.crmContactID(unifiedID: user.unifiedID) == "c-42")
    }
}
