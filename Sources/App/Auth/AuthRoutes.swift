import AppCore
import Crypto
import FoundationEssentials
import HTTPServer
import Logging

/// Phone login: send a one-time code, check it, start a session.
struct AuthRoutes: Sendable {
    let store: any IdentityStore
    let authenticator: Authenticator
    let codeSender: any CodeSender
    let policy: LoginCodePolicy
    /// Key for hashing codes at rest: a 6-digit code hashed without a secret is recovered by trying all 10⁶.
    let codeKey: [UInt8]
    let limits: Application.Configuration.LoginRateLimits
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy only).
    let trustForwardedFor: Bool
    /// The CRM contact step after a login; nil when no CRM is configured (`CLPR_CRM_WEBHOOK_URL`).
    var crm: CRMContacts? = nil
    let logger: Logger

    func register(in router: inout Router) {
        router.post("/api/v1/auth/phone", use: requestCode)
        router.post("/api/v1/auth/phone/verify", use: verifyCode)
        router.post("/api/v1/auth/logout", use: logout)
        router.post("/api/v1/auth/logout-all", use: logoutEverywhere)
        router.get("/api/v1/me", use: me)
    }

    struct PhoneBody: Decodable { var phone: String }
    struct VerifyBody: Decodable {
        var phone: String
        var code: String
    }

    static func parseMobile(_ text: String) throws -> PhoneNumber {
        let phone: PhoneNumber
        do {
            phone = try PhoneNumber(parsing: text)
        } catch {
            throw APIError(400, "invalid_phone", error.message, field: "phone")
        }
        guard phone.isMobile else {
            throw APIError(
                400, "invalid_phone", "Укажите номер мобильного телефона: он начинается с +7 9", field: "phone")
        }
        return phone
    }

    @Sendable func requestCode(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try JSONBody.decode(PhoneBody.self, from: request)
        let phone = try Self.parseMobile(body.phone)
        let now = Date()
        if let existing = try await store.loginCode(phone: phone.e164) {
            let resendAt = existing.createdAt.adding(policy.resendAfter)
            if resendAt > now {
                let wait = Int(resendAt.timeIntervalSince(now).rounded(.up))
                throw APIError(
                    429, "resend_too_soon", "Новый код можно запросить через \(wait) с", field: "phone",
                    extra: ["retry_after": .number(Double(wait))], headers: ["Retry-After": String(wait)])
            }
        }
        if let wait = try await rateLimitWait(phone: phone, address: clientAddress(request), now: now) {
            logger.notice("login code rate limit", metadata: ["phone": phone.masked])
            throw APIError(
                429, "too_many_codes", "Слишком много запросов кода. Попробуйте через \(Self.minutes(wait)) мин",
                field: "phone", extra: ["retry_after": .number(Double(wait))], headers: ["Retry-After": String(wait)])
        }
        let code = Crypto.randomDigits(policy.length)
        let codeHash = hash(code: code, phone: phone)
        try await store.saveLoginCode(
            LoginCode(phone: phone.e164, codeHash: codeHash, createdAt: now, expiresAt: now.adding(policy.lifetime)))
        do {
            try await codeSender.send(code: code, to: phone)
        } catch {
            // Not sent: forget the code so the cooldown does not block the next try, and give the number back the
            // request (a gateway outage must not lock the person out for the hour; the client address stays counted).
            _ = try? await store.consumeLoginCode(phone: phone.e164, codeHash: codeHash)
            try? await store.uncountRateEvent(bucket: Self.phoneBucket(phone))
            logger.error("login code not sent", metadata: ["phone": phone.masked, "error": "\(error)"])
            throw APIError(
                503, "code_not_sent", "Не удалось отправить код. Попробуйте ещё раз через минуту",
                headers: ["Retry-After": "60"])
        }
        return JSONResponse.make(
            .object([
                "phone": .string(phone.e164), "display_phone": .string(phone.display),
                "expires_in": .number(Double(policy.lifetime.secondsRoundedUp)),
                "resend_after": .number(Double(policy.resendAfter.secondsRoundedUp)),
            ]))
    }

    @Sendable func verifyCode(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = try JSONBody.decode(VerifyBody.self, from: request)
        let phone = try Self.parseMobile(body.phone)
        let code = body.code.filter { $0 != " " && $0 != "-" }
        guard code.count == policy.length, code.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw APIError(400, "invalid_code", "Код состоит из \(policy.length) цифр", field: "code")
        }
        guard let stored = try await store.loginCode(phone: phone.e164) else {
            throw APIError(404, "code_not_found", "Сначала запросите код для этого номера", field: "phone")
        }
        guard stored.expiresAt > Date() else {
            try await store.deleteLoginCode(phone: phone.e164)
            throw APIError(410, "code_expired", "Срок действия кода истёк. Запросите новый код", field: "code")
        }
        guard stored.failedAttempts < policy.maxFailedAttempts else { throw tooManyAttempts }
        guard Crypto.constantTimeEquals(Array(hash(code: code, phone: phone).utf8), Array(stored.codeHash.utf8))
        else {
            let attempts = try await store.recordFailedLoginAttempt(phone: phone.e164) ?? policy.maxFailedAttempts
            let left = policy.maxFailedAttempts - attempts
            guard left > 0 else { throw tooManyAttempts }
            throw APIError(
                400, "invalid_code", "Неверный код", field: "code",
                extra: ["attempts_left": .number(Double(left))])
        }
        // Exactly one of several simultaneous right answers signs in: a code is used once.
        guard try await store.consumeLoginCode(phone: phone.e164, codeHash: stored.codeHash) else {
            throw APIError(404, "code_not_found", "Код уже использован. Запросите новый код", field: "code")
        }
        let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: phone.e164, phone: phone.e164)
        let cookie = try await authenticator.start(for: user, channel: .webForm)
        await crm?.contactAfterLogin(phone: phone.e164, user: user, channel: .webForm)
        logger.info("signed in", metadata: ["unified_id": user.unifiedID, "phone": phone.masked])
        var response = JSONResponse.make(.object(["user": Self.userJSON(unifiedID: user.unifiedID, phone: user.phone)]))
        response.headers.add("Set-Cookie", cookie)
        return response
    }

    var tooManyAttempts: APIError {
        APIError(429, "too_many_attempts", "Слишком много неверных попыток. Запросите новый код", field: "code")
    }

    @Sendable func logout(_ request: HTTPRequest) async throws -> HTTPResponse {
        let cookie = try await authenticator.end(request)
        var response = HTTPResponse(status: 204)
        response.headers.add("Set-Cookie", cookie)
        return response
    }

    /// Signs the person out on every device and channel (all their sessions), this one included.
    @Sendable func logoutEverywhere(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let ended = try await store.deleteSessions(unifiedID: session.unifiedID)
        logger.info("signed out everywhere", metadata: ["unified_id": session.unifiedID, "sessions": "\(ended)"])
        var response = JSONResponse.make(.object(["sessions_ended": .number(Double(ended))]))
        response.headers.add("Set-Cookie", authenticator.cookie(value: "", maxAge: 0))
        return response
    }

    static func phoneBucket(_ phone: PhoneNumber) -> String { "login-code:phone:" + phone.e164 }

    /// Counts this code request against the number's and the client address's windows (in the store, so every
    /// instance shares them); the seconds until the fuller exhausted window ends, or nil when both allow it.
    func rateLimitWait(phone: PhoneNumber, address: String, now: Date) async throws -> Int? {
        let perPhone = try await store.countRateEvent(bucket: Self.phoneBucket(phone), window: limits.window, now: now)
        let perAddress = try await store.countRateEvent(
            bucket: "login-code:address:" + address, window: limits.window, now: now)
        var wait: Double = 0
        for (counted, limit) in [(perPhone, limits.perPhone), (perAddress, limits.perAddress)]
        where counted.count > limit {
            wait = max(wait, counted.windowStart.adding(limits.window).timeIntervalSince(now))
        }
        return wait > 0 ? max(1, Int(wait.rounded(.up))) : nil
    }

    /// The address rate limits count against: the TCP peer, or (behind a trusted proxy) the last
    /// `X-Forwarded-For` entry, the one that proxy appended.
    func clientAddress(_ request: HTTPRequest) -> String {
        Self.clientAddress(request, trustForwardedFor: trustForwardedFor)
    }

    static func clientAddress(_ request: HTTPRequest, trustForwardedFor: Bool) -> String {
        if trustForwardedFor, let forwarded = request.headers["X-Forwarded-For"],
            let last = forwarded.split(separator: ",").last.map({ String($0).trimmingWhitespace() }), !last.isEmpty
        {
            return last
        }
        return request.remoteAddress ?? "unknown"
    }

    static func minutes(_ seconds: Int) -> Int { max(1, (seconds + 59) / 60) }

    @Sendable func me(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        let user = try await store.user(unifiedID: session.unifiedID)
        return JSONResponse.make(Self.userJSON(unifiedID: session.unifiedID, phone: user?.phone))
    }

    func hash(code: String, phone: PhoneNumber) -> String {
        Crypto.hex(Crypto.hmacSHA256(key: codeKey, message: Array("\(phone.e164):\(code)".utf8)))
    }

    static func userJSON(unifiedID: String, phone: String?) -> JSONValue {
        let display = phone.flatMap(PhoneNumber.init(e164:))?.display
        return .object([
            "unified_id": .string(unifiedID), "phone": .optional(phone), "display_phone": .optional(display),
        ])
    }
}
