import AppCore
import Foundation
import Testing

/// The behaviour every ``IdentityStore`` & ``ClaimStore`` adapter must show, written against the ports only so
/// the same checks run against SQLite, PostgreSQL and the in-memory store.
///
/// ```swift
/// @Test func draftsAreFoundByUnifiedIDOnly() async throws {
///     try await withStore { try await StoreContract(store: $0).draftsAreFoundByUnifiedIDOnly() }
/// }
/// ```
public struct StoreContract: Sendable {
    /// What a store does with U+0000 inside a text value.
    public enum NULCharacters: Sendable {
        /// Stored and read back unchanged (SQLite, in memory).
        case keptIntact
        /// Refused with a ``StoreError`` and nothing written (PostgreSQL `text`/`jsonb` cannot hold U+0000; the
        /// answer validator already rejects control characters, so people never get here).
        case refused
    }

    public let store: AnyStore
    public let nulCharacters: NULCharacters

    /// - Parameters:
    ///   - store: a fresh, migrated store.
    ///   - nulCharacters: how the store treats U+0000 in text. Default ``NULCharacters/keptIntact``.
    public init(store: AnyStore, nulCharacters: NULCharacters = .keptIntact) {
        self.store = store
        self.nulCharacters = nulCharacters
    }

    // MARK: - Users

    public func findOrCreateUserIsStable() async throws {
        let first = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+79990000001", phone: "+79990000001")
        let second = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
        #expect(first == second)
        #expect(first.unifiedID.hasPrefix("usr_"))
        #expect(first.unifiedID == first.unifiedID.lowercased())
        #expect(first.phone == "+79990000001")

        let telegram = try await store.findOrCreateUser(channel: .telegram, channelUserID: "+79990000001", phone: nil)
        #expect(telegram.id != first.id, "another channel's account is another user until linked")
        #expect(try await store.user(unifiedID: first.unifiedID) == first)
        #expect(try await store.user(unifiedID: "usr_missing") == nil)
    }

    /// 100 concurrent calls for one account: no errors, and every caller gets the same user.
    @discardableResult
    public func parallelFindOrCreateUserYieldsOneUser() async throws -> User {
        let store = self.store
        let results = await withTaskGroup(of: Result<User, any Error>.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    do {
                        return .success(
                            try await store.findOrCreateUser(
                                channel: .webForm, channelUserID: "+79991112233", phone: "+79991112233"))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let users: [User] = results.compactMap { try? $0.get() }
        #expect(users.count == 100, "errors: \(results.count - users.count)")
        #expect(Set(users.map(\.unifiedID)).count == 1)
        #expect(Set(users.map(\.id)).count == 1)
        return try #require(users.first)
    }

    // MARK: - Claims

    public func insertAndLoadRoundTrips() async throws {
        let user = try await store.findOrCreateUser(channel: .telegram, channelUserID: "42", phone: nil)
        var claim = makeClaim(for: user, channel: .telegram)
        claim.telegramID = 42
        claim.policyNumber = "XXX 0123456789"
        claim.wizardPlan = #"{"steps":[{"id":"a","title":"A"}],"version":1}"#
        claim.documentsMeta = #"[{"field":"passport","file_id":"f1"}]"#
        claim.isConfirmed = true
        claim.revision = 3
        claim.submissionID = "sub-1"
        claim.submittedRevision = 3
        claim.submittedAt = testDate(60)
        try await store.insertClaim(claim)

        #expect(try await store.claim(id: claim.id) == claim)
        #expect(try await store.claim(sessionToken: claim.sessionToken) == claim)
        #expect(try await store.claim(id: "missing") == nil)
        #expect(try await store.claim(sessionToken: "missing") == nil)
        // The plan stream's lean read agrees with the whole claim: submitted and current, then edited (no longer
        // current), a draft never submitted, and no claim.
        #expect(try await store.planStreamClaim(sessionToken: claim.sessionToken) == PlanStreamClaim(claim))
        #expect(try await store.planStreamClaim(sessionToken: claim.sessionToken)?.isSubmissionCurrent == true)
        let edited = try await store.updateClaim(id: claim.id) { $0.revision += 1 }
        #expect(try await store.planStreamClaim(sessionToken: claim.sessionToken) == PlanStreamClaim(edited))
        #expect(try await store.planStreamClaim(sessionToken: claim.sessionToken)?.isSubmissionCurrent == false)
        _ = try await store.updateClaim(id: claim.id) { $0.revision -= 1 }
        let draft = makeClaim(for: user)
        try await store.insertClaim(draft)
        #expect(try await store.planStreamClaim(sessionToken: draft.sessionToken) == PlanStreamClaim(draft))
        #expect(try await store.planStreamClaim(sessionToken: draft.sessionToken)?.submissionID == nil)
        #expect(try await store.planStreamClaim(sessionToken: "missing") == nil)
        // Half a submission is never current: an id without a submitted revision, a revision without an id. No
        // expiry reads as none.
        var halfSubmitted = makeClaim(for: user)
        halfSubmitted.submissionID = "sub-half"
        halfSubmitted.expiresAt = nil
        var revisionOnly = makeClaim(for: user)
        revisionOnly.submittedRevision = revisionOnly.revision
        for candidate in [halfSubmitted, revisionOnly] {
            try await store.insertClaim(candidate)
            let read = try await store.planStreamClaim(sessionToken: candidate.sessionToken)
            #expect(read == PlanStreamClaim(candidate))
            #expect(read?.isSubmissionCurrent == false)
        }

        await expectStoreError(.conflict) { try await store.insertClaim(claim) }
        var sameToken = makeClaim(for: user)
        sameToken.sessionToken = claim.sessionToken
        await expectStoreError(.conflict) { try await store.insertClaim(sameToken) }
    }

    public func draftsAreFoundByUnifiedIDOnly() async throws {
        let owner = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+79990000001", phone: "+79990000001")
        let other = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+79990000002", phone: "+79990000002")
        let oldest = makeClaim(for: owner, updatedAt: testDate(1))
        let newest = makeClaim(for: owner, channel: .telegram, updatedAt: testDate(3))
        let middle = makeClaim(for: owner, updatedAt: testDate(2))
        let submitted = makeClaim(for: owner, status: .inWork, updatedAt: testDate(4))
        // Same phone in the payload, but another person's unified_id: must not be listed.
        let foreign = makeClaim(for: other, updatedAt: testDate(5), phone: "+79990000001")
        for claim in [oldest, newest, middle, submitted, foreign] { try await store.insertClaim(claim) }

        #expect(try await store.drafts(unifiedID: owner.unifiedID, limit: 20) == [newest, middle, oldest])
        #expect(try await store.drafts(unifiedID: owner.unifiedID, limit: 2) == [newest, middle])
        #expect(try await store.drafts(unifiedID: owner.unifiedID, limit: 0) == [])
        #expect(try await store.drafts(unifiedID: other.unifiedID, limit: 20) == [foreign])
        #expect(try await store.drafts(unifiedID: "usr_nobody", limit: 20) == [])
        #expect(try await store.claims(unifiedID: owner.unifiedID, limit: 20) == [submitted, newest, middle, oldest])
        #expect(try await store.claims(unifiedID: owner.unifiedID, limit: 1) == [submitted])
    }

    public func updateClaimIsAtomic() async throws {
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
        let claim = makeClaim(for: user)
        try await store.insertClaim(claim)

        do {
            _ = try await store.updateClaim(id: claim.id) { claim in
                claim.answers["q1"] = "changed"
                claim.revision = 99
                throw DeliberateFailure(tag: 7)
            }
            Issue.record("updateClaim did not rethrow")
        } catch let error as DeliberateFailure {
            #expect(error == DeliberateFailure(tag: 7))
        }
        #expect(try await store.claim(id: claim.id) == claim, "a throwing change writes nothing")

        let updated = try await store.updateClaim(id: claim.id) { claim in
            claim.answers["q2"] = "a2"
            claim.status = .inWork
            claim.statusHistory.append(StatusChange(status: .inWork, at: testDate(10)))
            claim.updatedAt = testDate(10)
            claim.id = "ignored"
        }
        #expect(updated.id == claim.id)
        #expect(updated.answers == ["q1": "a1", "q2": "a2"])
        #expect(try await store.claim(id: claim.id) == updated)

        await expectStoreError(.notFound) { _ = try await store.updateClaim(id: "missing") { _ in } }
    }

    /// 50 concurrent read-modify-write increments lose no update.
    public func parallelUpdatesDoNotLoseWrites() async throws {
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
        let claim = makeClaim(for: user)
        try await store.insertClaim(claim)
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { _ = try await store.updateClaim(id: claim.id) { $0.revision += 1 } }
            }
            try await group.waitForAll()
        }
        #expect(try await store.claim(id: claim.id)?.revision == 50)
    }

    /// Values that look like SQL, quotes, emoji, control characters and a 10 KB string come back unchanged.
    public func awkwardValuesRoundTrip() async throws {
        let injection = "'; DROP TABLE clpr_claims; --"
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: injection, phone: injection)
        let answers = [
            "sql": injection,
            "quotes": #"He said "hi" and 'bye' \ back\slash"#,
            "emoji": "🚗💥 ДТП 👨‍👩‍👧 ☃︎",
            "newlines": "line 1\nline 2\r\n\ttabbed",
            "empty": "",
            "big": String(repeating: "0123456789", count: 1024),
            injection: "key that looks like SQL",
        ]
        var claim = makeClaim(for: user, phone: injection, answers: answers)
        claim.sessionToken = "tok'\"; --"
        claim.policyNumber = "' OR '1'='1"
        try await store.insertClaim(claim)

        let loaded = try #require(try await store.claim(id: claim.id))
        #expect(loaded.answers == answers)
        #expect(loaded == claim)
        #expect(try await store.claim(sessionToken: claim.sessionToken) == claim)
        #expect(try await store.drafts(unifiedID: user.unifiedID, limit: 5) == [claim])
        #expect(try await store.drafts(unifiedID: "' OR '1'='1", limit: 5) == [])
        #expect(try await store.user(unifiedID: user.unifiedID)?.phone == injection)

        let withNUL = makeClaim(for: user, answers: ["nul": "before\u{0}after"])
        switch nulCharacters {
        case .keptIntact:
            try await store.insertClaim(withNUL)
            #expect(try await store.claim(id: withNUL.id) == withNUL)
        case .refused:
            await expectStoreError(.internalFailure) { try await store.insertClaim(withNUL) }
            #expect(try await store.claim(id: withNUL.id) == nil, "a refused value writes nothing, not a cut-off one")
        }
    }

    // MARK: - Plans

    public func planRecordsAreStoredOnce() async throws {
        let plan = #"{"steps":[{"id":"photos"}],"version":2}"#
        let unknown = PlanRecord(
            sessionToken: "tok_unknown", submissionID: "sub-1", outcome: .ready(planJSON: plan), receivedAt: testDate())
        #expect(try await store.storePlanRecord(unknown) == .unknownToken)

        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
        var claim = makeClaim(for: user)
        claim.submissionID = "sub-2"
        claim.submittedRevision = 1
        try await store.insertClaim(claim)

        let stale = PlanRecord(
            sessionToken: claim.sessionToken, submissionID: "sub-1", outcome: .ready(planJSON: #"{"old":true}"#),
            receivedAt: testDate(1))
        #expect(try await store.storePlanRecord(stale) == .stored(isCurrent: false))
        #expect(try await store.claim(id: claim.id)?.wizardPlan == nil, "a stale plan leaves wizard_plan alone")

        let current = PlanRecord(
            sessionToken: claim.sessionToken, submissionID: "sub-2", outcome: .ready(planJSON: plan),
            receivedAt: testDate(2))
        #expect(try await store.storePlanRecord(current) == .stored(isCurrent: true))
        let withPlan = try #require(try await store.claim(id: claim.id))
        #expect(withPlan.wizardPlan == plan)
        #expect(withPlan.updatedAt == claim.updatedAt, "storing a plan leaves updated_at alone")

        var redelivered = current
        redelivered.outcome = .ready(planJSON: #"{"other":1}"#)
        #expect(try await store.storePlanRecord(redelivered) == .duplicate)
        #expect(try await store.claim(id: claim.id)?.wizardPlan == plan)
        #expect(try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-2") == current)
        #expect(try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-1") == stale)
        #expect(try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-9") == nil)

        // A failure for the current submission is recorded but never becomes the plan.
        _ = try await store.updateClaim(id: claim.id) { $0.submissionID = "sub-3" }
        let failed = PlanRecord(
            sessionToken: claim.sessionToken, submissionID: "sub-3",
            outcome: .failed(code: "invalid_plan", message: "steps: missing 'id' — \"quoted\""), receivedAt: testDate(3)
        )
        #expect(try await store.storePlanRecord(failed) == .stored(isCurrent: true))
        #expect(try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-3") == failed)
        #expect(try await store.claim(id: claim.id)?.wizardPlan == plan)

        // A plan naming another claim than its token's is refused, and nothing of it is stored, even for the
        // current submission.
        _ = try await store.updateClaim(id: claim.id) { $0.submissionID = "sub-4" }
        let foreign = PlanRecord(
            sessionToken: claim.sessionToken, submissionID: "sub-4", outcome: .ready(planJSON: #"{"foreign":1}"#),
            receivedAt: testDate(4), claimID: "00000000-0000-4000-8000-0000000000ff")
        #expect(try await store.storePlanRecord(foreign) == .claimMismatch)
        #expect(try await store.storePlanRecords([foreign]) == [.claimMismatch])
        #expect(try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-4") == nil)
        #expect(try await store.claim(id: claim.id)?.wizardPlan == plan)

        // A batch is stored in order: a repeat of an earlier record of the batch is a duplicate, and the records
        // around an unknown token or a mismatch are stored all the same. The plan naming its own claim is taken.
        _ = try await store.updateClaim(id: claim.id) { $0.submissionID = "sub-5" }
        let fifthPlan = #"{"steps":[{"id":"fifth"}],"version":2}"#
        let fifth = PlanRecord(
            sessionToken: claim.sessionToken, submissionID: "sub-5", outcome: .ready(planJSON: fifthPlan),
            receivedAt: testDate(5), claimID: claim.id)
        var sixth = fifth
        sixth.submissionID = "sub-6"
        sixth.claimID = nil
        let results = try await store.storePlanRecords([fifth, fifth, unknown, foreign, stale, sixth])
        #expect(
            results == [
                .stored(isCurrent: true), .duplicate, .unknownToken, .claimMismatch, .duplicate,
                .stored(isCurrent: false),
            ])
        #expect(try await store.claim(id: claim.id)?.wizardPlan == fifthPlan)
        #expect(
            try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-5")?.outcome
                == fifth.outcome)
        #expect(
            try await store.planRecord(sessionToken: claim.sessionToken, submissionID: "sub-6")?.outcome
                == sixth.outcome)

        // Every instance receives every message: the same record stored at once by many is stored once.
        _ = try await store.updateClaim(id: claim.id) { $0.submissionID = "sub-7" }
        let seventh = PlanRecord(
            sessionToken: claim.sessionToken, submissionID: "sub-7", outcome: fifth.outcome, receivedAt: testDate(7))
        let shared = store
        let concurrent = try await withThrowingTaskGroup(of: PlanStoreResult.self) { group in
            for _ in 0..<8 { group.addTask { try await shared.storePlanRecord(seventh) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(concurrent.filter { $0 == .stored(isCurrent: true) }.count == 1)
        #expect(concurrent.filter { $0 == .duplicate }.count == 7)

        try await store.storeDeadLetter(
            channel: "claim:plan:x", payload: [0, 1, 255], reason: "no token", receivedAt: testDate())
        try await store.storeDeadLetter(channel: "claim:plan:y", payload: [], reason: "empty", receivedAt: testDate())
    }

    // MARK: - Login codes and sessions

    public func loginCodesCountFailedAttempts() async throws {
        let phone = "+79990000001"
        #expect(try await store.recordFailedLoginAttempt(phone: phone) == nil)
        let code = LoginCode(phone: phone, codeHash: "hash-1", createdAt: testDate(), expiresAt: testDate(300))
        try await store.saveLoginCode(code)
        #expect(try await store.loginCode(phone: phone) == code)

        #expect(try await store.recordFailedLoginAttempt(phone: phone) == 1)
        #expect(try await store.recordFailedLoginAttempt(phone: phone) == 2)
        let store = self.store
        let counts = try await withThrowingTaskGroup(of: Int?.self) { group in
            for _ in 0..<10 { group.addTask { try await store.recordFailedLoginAttempt(phone: phone) } }
            return try await group.reduce(into: [Int]()) { $0.append($1 ?? -1) }
        }
        #expect(counts.sorted() == Array(3...12), "each attempt is counted exactly once")
        #expect(try await store.loginCode(phone: phone)?.failedAttempts == 12)

        let replacement = LoginCode(phone: phone, codeHash: "hash-2", createdAt: testDate(60), expiresAt: testDate(360))
        try await store.saveLoginCode(replacement)
        #expect(try await store.loginCode(phone: phone) == replacement, "a new code resets the attempts")

        try await store.deleteLoginCode(phone: phone)
        #expect(try await store.loginCode(phone: phone) == nil)
        try await store.deleteLoginCode(phone: phone)
    }

    public func sessionsLifecycle() async throws {
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000001", phone: nil)
        let session = Session(
            tokenHash: String(repeating: "ab", count: 32), userID: user.id, unifiedID: user.unifiedID,
            channel: .webForm, createdAt: testDate(), expiresAt: testDate(3600))
        #expect(try await store.session(tokenHash: session.tokenHash) == nil)
        try await store.createSession(session)
        #expect(try await store.session(tokenHash: session.tokenHash) == session)
        await expectStoreError(.conflict) { try await store.createSession(session) }

        try await store.renewSession(tokenHash: session.tokenHash, expiresAt: testDate(7200))
        #expect(try await store.session(tokenHash: session.tokenHash)?.expiresAt == testDate(7200))

        try await store.deleteSession(tokenHash: session.tokenHash)
        #expect(try await store.session(tokenHash: session.tokenHash) == nil)
        try await store.renewSession(tokenHash: session.tokenHash, expiresAt: testDate(9000))
        try await store.deleteSession(tokenHash: session.tokenHash)
        #expect(try await store.session(tokenHash: session.tokenHash) == nil)
    }
}

/// Expects `body` to throw a ``StoreError`` with `code`.
public func expectStoreError(
    _ code: StoreError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected StoreError(\(code)), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error.code == code, "\(String(reflecting: error))", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected StoreError(\(code)), got \(String(reflecting: error))", sourceLocation: sourceLocation)
    }
}
