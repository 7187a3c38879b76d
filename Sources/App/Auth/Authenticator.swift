import AppCore
import Crypto
import FoundationEssentials
import HTTPServer

/// Sessions: opaque random tokens in an HttpOnly cookie, stored only as SHA-256, sliding expiry.
struct Authenticator: Sendable {
    static let cookieName = "clpr_session"

    let store: any IdentityStore
    let lifetime: Duration
    let secureCookies: Bool

    /// The signed-in session of the request.
    /// - Throws: 401 ``APIError/unauthenticated`` when there is none or it expired.
    func require(_ request: HTTPRequest) async throws -> Session {
        guard let token = request.cookie(Self.cookieName), Self.isWellFormed(token) else {
            throw APIError.unauthenticated
        }
        let hash = Crypto.sha256Hex(token)
        guard let session = try await store.session(tokenHash: hash) else { throw APIError.unauthenticated }
        let now = Date()
        guard session.expiresAt > now else {
            try await store.deleteSession(tokenHash: hash)
            throw APIError.unauthenticated
        }
        // Renew when less than half the lifetime is left, so an active person is never logged out mid-claim
        // and storage is written at most once per half-lifetime.
        if session.expiresAt.timeIntervalSince(now) < lifetime.timeInterval / 2 {
            try await store.renewSession(tokenHash: hash, expiresAt: now.adding(lifetime))
        }
        return session
    }

    /// Starts a session for `user`; returns the `Set-Cookie` value.
    func start(for user: User, channel: Channel) async throws -> String {
        let token = Crypto.randomToken()  // 256 bits
        let now = Date()
        try await store.createSession(
            Session(
                tokenHash: Crypto.sha256Hex(token), userID: user.id, unifiedID: user.unifiedID, channel: channel,
                createdAt: now, expiresAt: now.adding(lifetime)))
        return cookie(value: token, maxAge: lifetime.secondsRoundedUp)
    }

    /// Ends the request's session (if any); returns the `Set-Cookie` value that clears the cookie.
    func end(_ request: HTTPRequest) async throws -> String {
        if let token = request.cookie(Self.cookieName), Self.isWellFormed(token) {
            try await store.deleteSession(tokenHash: Crypto.sha256Hex(token))
        }
        return cookie(value: "", maxAge: 0)
    }

    func cookie(value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
            + (secureCookies ? "; Secure" : "")
    }

    static func isWellFormed(_ token: String) -> Bool { Crypto.isBase64URL(token, lengths: 16...128) }
}
