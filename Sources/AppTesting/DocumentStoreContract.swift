import AppCore
import Foundation
import Synchronization
import Testing

/// The behaviour every ``DocumentStore`` adapter must show (SQLite and PostgreSQL), written against the ports.
public struct DocumentStoreContract: Sendable {
    public typealias Store = any IdentityStore & ClaimStore & DocumentStore

    public let store: Store

    public init(store: Store) { self.store = store }

    /// A confirmed claim waiting for documents, with a fresh person.
    func awaitingClaim() async throws -> Claim {
        let user = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+7999" + String(Int.random(in: 1_000_000...9_999_999)), phone: nil)
        var claim = makeClaim(for: user, status: .awaitingDocuments)
        claim.isConfirmed = true
        try await store.insertClaim(claim)
        return claim
    }

    static func document(_ claim: Claim, field: String, content: String, at offset: Int64 = 0) -> ClaimDocument {
        let sha = String(repeating: content, count: 64 / content.count + 1).prefix(64)
        return ClaimDocument(
            id: UUID().uuidString.lowercased(), claimID: claim.id, fieldName: field,
            fileID: UUID().uuidString.lowercased(), fileName: sha + ".pdf", originalFileName: "скан \(field).pdf",
            contentType: .pdf, size: 1234, sha256: String(sha), uploadedAt: testDate(offset))
    }

    /// Rows, `documents_meta` and the content rows move together; the same content in one slot is one row, in two
    /// slots two rows sharing one content row; the last use of a content releases it.
    public func addDedupeDeleteKeepMetaInStep() async throws {
        let claim = try await awaitingClaim()
        let placed = Mutex<[String]>([])
        let released = Mutex<[String]>([])
        let a = Self.document(claim, field: "passport", content: "a")
        let first = try await store.addDocument(a, check: { _, _ in }, place: { placed.withLock { $0.append("a") } })
        #expect(first == .added(a))
        let again = Self.document(claim, field: "passport", content: "a", at: 1)
        #expect(try await store.addDocument(again, check: { _, _ in }, place: {}) == .existing(a))
        let otherSlot = Self.document(claim, field: "policy", content: "a", at: 2)
        guard case .added(let shared) = try await store.addDocument(otherSlot, check: { _, _ in }, place: {}) else {
            Issue.record("a second slot adds a row")
            return
        }
        #expect(shared.fileID == a.fileID, "one content row for the same bytes")
        let listed = try await store.documents(claimID: claim.id)
        #expect(listed.map(\.id) == [a.id, shared.id])
        #expect(listed.first == a)
        let meta = try #require(try await store.claim(id: claim.id)).documentsMeta
        #expect(DocumentsMeta.fieldNames(in: meta) == ["passport", "policy"])
        #expect(meta == DocumentsMeta.encode(listed))
        #expect(try await store.documentContentHashes() == [a.sha256])

        let release: @Sendable (String) throws -> Void = { sha in released.withLock { $0.append(sha) } }
        #expect(try await store.deleteDocument(id: a.id, claimID: claim.id, check: { _ in }, release: release))
        #expect(released.withLock { $0 }.isEmpty, "still used by the other slot")
        #expect(try await store.deleteDocument(id: a.id, claimID: claim.id, check: { _ in }, release: release) == false)
        #expect(try await store.deleteDocument(id: shared.id, claimID: claim.id, check: { _ in }, release: release))
        #expect(released.withLock { $0 } == [a.sha256])
        #expect(try await store.documents(claimID: claim.id).isEmpty)
        #expect(try #require(try await store.claim(id: claim.id)).documentsMeta == "[]")
        #expect(try await store.documentContentHashes().isEmpty)
    }

    /// A refusing `check` or a failing `place` writes nothing: no row, no content row, no meta.
    public func refusalsWriteNothing() async throws {
        let claim = try await awaitingClaim()
        let document = Self.document(claim, field: "passport", content: "b")
        await #expect(throws: DeliberateFailure.self) {
            try await store.addDocument(document, check: { _, _ in throw DeliberateFailure(tag: 1) }, place: {})
        }
        await #expect(throws: DeliberateFailure.self) {
            try await store.addDocument(document, check: { _, _ in }, place: { throw DeliberateFailure(tag: 2) })
        }
        #expect(try await store.documents(claimID: claim.id).isEmpty)
        #expect(try await store.documentContentHashes().isEmpty)
        #expect(try #require(try await store.claim(id: claim.id)).documentsMeta == "[]")
        let unknown = Self.document(claim, field: "passport", content: "c")
        var elsewhere = unknown
        elsewhere.claimID = UUID().uuidString.lowercased()
        await #expect(throws: StoreError.self) {
            try await store.addDocument(elsewhere, check: { _, _ in }, place: {})
        }
    }

    /// `check` sees the claim and its documents as they are under the lock: concurrent adds are serialized.
    public func parallelAddsAreAllKeptAndCounted() async throws {
        let claim = try await awaitingClaim()
        let documents = (0..<20).map {
            Self.document(claim, field: "slot\($0 % 3)", content: String(format: "%02x", $0))
        }
        final class Counts: Sendable { let seen = Mutex<[Int]>([]) }
        let counts = Counts()
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for document in documents {
                group.addTask {
                    _ = try await store.addDocument(
                        document, check: { _, existing in counts.seen.withLock { $0.append(existing.count) } },
                        place: {})
                }
            }
            try await group.waitForAll()
        }
        #expect(counts.seen.withLock { $0.sorted() } == Array(0..<20), "each add saw the ones before it")
        let listed = try await store.documents(claimID: claim.id)
        #expect(Set(listed.map(\.id)) == Set(documents.map(\.id)))
        let meta = try #require(try await store.claim(id: claim.id)).documentsMeta
        #expect(DocumentsMeta.fieldNames(in: meta).count == 20)
    }
}
