import AppCore
import Foundation
import Testing

extension StoreContract {
    // MARK: - Telegram identity

    /// The Mini App login upserts one user per Telegram id, and the profile can change without a new user.
    public func telegramUsersAreUpserted() async throws {
        let first = try await store.upsertTelegramUser(
            TelegramProfile(id: 777_000_001, firstName: "Иван", username: "ivan", languageCode: "ru", isPremium: true))
        let again = try await store.upsertTelegramUser(
            TelegramProfile(id: 777_000_001, firstName: "Ivan", lastName: "O'Brien \\/ \"q\""))
        #expect(first == again)
        #expect(first.phone == nil)
        let viaAccount = try await store.findOrCreateUser(channel: .telegram, channelUserID: "777000001", phone: nil)
        #expect(viaAccount == first, "the telegram account is the one the Mini App login created")
    }

    /// 20 concurrent first logins of one Telegram id: no errors, one user.
    public func parallelTelegramUpsertsYieldOneUser() async throws {
        let store = self.store
        let results = await withTaskGroup(of: Result<User, any Error>.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        return .success(
                            try await store.upsertTelegramUser(TelegramProfile(id: 777_000_002, firstName: "n\(index)"))
                        )
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let users = results.compactMap { try? $0.get() }
        #expect(users.count == 20, "errors: \(results.compactMap { if case .failure(let e) = $0 { e } else { nil } })")
        #expect(Set(users.map(\.unifiedID)).count == 1)
    }

    /// A phone nobody used on the web becomes the Telegram user's; logging in on the web with it then finds
    /// that user.
    public func linkingANewPhoneGivesTheTelegramUserTheWebAccount() async throws {
        let telegram = try await store.upsertTelegramUser(TelegramProfile(id: 777_000_003))
        let link = try await store.linkTelegramPhone(telegramID: 777_000_003, phone: "+79990000031")
        #expect(link.outcome == .linked)
        #expect(link.user.unifiedID == telegram.unifiedID)
        #expect(link.user.phone == "+79990000031")
        let web = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+79990000031", phone: "+79990000031")
        #expect(web.unifiedID == telegram.unifiedID)
        let again = try await store.linkTelegramPhone(telegramID: 777_000_003, phone: "+79990000031")
        #expect(again.outcome == .alreadyLinked)
        #expect(again.user.unifiedID == telegram.unifiedID)
    }

    /// Both exist: the web user's `unified_id` wins, and the Telegram user's claims, account and sessions move to
    /// it; nothing of either is lost.
    public func linkingMergesTheTelegramUserIntoTheWebUser() async throws {
        let web = try await store.findOrCreateUser(
            channel: .webForm, channelUserID: "+79990000041", phone: "+79990000041")
        let telegram = try await store.upsertTelegramUser(TelegramProfile(id: 777_000_004, firstName: "T"))
        #expect(web.unifiedID != telegram.unifiedID)
        let webDraft = makeClaim(for: web, updatedAt: testDate(1))
        var telegramDraft = makeClaim(for: telegram, channel: .telegram, updatedAt: testDate(2), phone: nil)
        telegramDraft.telegramID = 777_000_004
        try await store.insertClaim(webDraft)
        try await store.insertClaim(telegramDraft)
        let session = Session(
            tokenHash: String(repeating: "cd", count: 32), userID: telegram.id, unifiedID: telegram.unifiedID,
            channel: .telegram, createdAt: testDate(), expiresAt: testDate(3600))
        try await store.createSession(session)

        let link = try await store.linkTelegramPhone(telegramID: 777_000_004, phone: "+79990000041")
        #expect(link.outcome == .merged)
        #expect(link.movedClaims == 1)
        #expect(link.user.unifiedID == web.unifiedID)

        let drafts = try await store.drafts(unifiedID: web.unifiedID, limit: 20)
        #expect(drafts.map(\.id) == [telegramDraft.id, webDraft.id])
        #expect(drafts.first?.userID == web.id)
        #expect(drafts.first?.telegramID == 777_000_004)
        #expect(try await store.drafts(unifiedID: telegram.unifiedID, limit: 20) == [])
        #expect(try await store.session(tokenHash: session.tokenHash)?.unifiedID == web.unifiedID)
        let viaTelegram = try await store.upsertTelegramUser(TelegramProfile(id: 777_000_004))
        #expect(viaTelegram.unifiedID == web.unifiedID, "the Mini App now logs in as the web user")
        #expect(try await store.user(unifiedID: telegram.unifiedID) != nil, "the merged user's row is kept")
    }

    /// A right code signs in once, even when presented twice at the same moment; a replaced code is not consumed.
    public func loginCodesAreConsumedOnce() async throws {
        let phone = "+79990000061"
        try await store.saveLoginCode(
            LoginCode(phone: phone, codeHash: "h1", createdAt: testDate(), expiresAt: testDate(300)))
        let store = self.store
        let wins = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask { (try? await store.consumeLoginCode(phone: phone, codeHash: "h1")) ?? false }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        try await store.saveLoginCode(
            LoginCode(phone: phone, codeHash: "h2", createdAt: testDate(), expiresAt: testDate(300)))
        #expect(try await store.consumeLoginCode(phone: phone, codeHash: "h1") == false)
        #expect(try await store.loginCode(phone: phone)?.codeHash == "h2")
    }

    /// A fixed window per bucket: counts go up within it, start again after it; concurrent counts lose nothing.
    public func rateEventsAreCountedPerWindow() async throws {
        let window = Duration.seconds(3600)
        #expect(
            try await store.countRateEvent(bucket: "b1", window: window, now: testDate())
                == .init(count: 1, windowStart: testDate()))
        #expect(try await store.countRateEvent(bucket: "b1", window: window, now: testDate(10)).count == 2)
        #expect(try await store.countRateEvent(bucket: "b2", window: window, now: testDate(10)).count == 1)
        let later = try await store.countRateEvent(bucket: "b1", window: window, now: testDate(3600))
        #expect(later == .init(count: 1, windowStart: testDate(3600)), "a new window starts when the old one is over")
        let store = self.store
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { _ = try? await store.countRateEvent(bucket: "b3", window: window, now: testDate(5)) }
            }
        }
        #expect(try await store.countRateEvent(bucket: "b3", window: window, now: testDate(6)).count == 21)
    }

    /// Sign out everywhere removes every session of the person and no one else's.
    public func allSessionsOfAPersonCanBeRevoked() async throws {
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000051", phone: nil)
        let other = try await store.findOrCreateUser(channel: .webForm, channelUserID: "+79990000052", phone: nil)
        for (index, owner) in [user, user, other].enumerated() {
            try await store.createSession(
                Session(
                    tokenHash: String(repeating: "e\(index)", count: 32), userID: owner.id, unifiedID: owner.unifiedID,
                    channel: .webForm, createdAt: testDate(), expiresAt: testDate(3600)))
        }
        #expect(try await store.deleteSessions(unifiedID: user.unifiedID) == 2)
        #expect(try await store.session(tokenHash: String(repeating: "e0", count: 32)) == nil)
        #expect(try await store.session(tokenHash: String(repeating: "e1", count: 32)) == nil)
        #expect(try await store.session(tokenHash: String(repeating: "e2", count: 32)) != nil)
        #expect(try await store.deleteSessions(unifiedID: user.unifiedID) == 0)
    }
}
