import AppCore
import Crypto
import FoundationEssentials
import Logging

/// Creates submitted claims with signed-in sessions for load tests (`clpr bench-seed`), and returns one
/// `TOKEN<TAB>COOKIE` line per claim: the `--tokens-file` format of `bench/loadgen.py`.
///
/// Each claim gets its own person (phone `+7999…`), session and submission, so every stream passes the owner
/// check exactly as a browser's would. Nothing here bypasses the rules the server applies.
public enum BenchSeeder {
    public static func seed(count: Int, configuration: Application.Configuration) async throws -> [String] {
        let database = try Application.openDatabase(
            configuration, logger: Logger(label: "clpr.bench-seed", logLevel: .warning))
        defer { database.close() }
        let store = database.store
        let authenticator = Authenticator(
            store: store, lifetime: configuration.sessionLifetime, secureCookies: configuration.secureCookies)
        let run = Crypto.randomDigits(3)
        var lines: [String] = []
        lines.reserveCapacity(count)
        for index in 0..<count {
            let number = String(index)
            let phone = "+7999" + run + String(repeating: "0", count: 4 - min(4, number.count)) + number.suffix(4)
            let user = try await store.findOrCreateUser(
                channel: .webForm, channelUserID: phone + "#\(index)", phone: phone)
            let cookie = try await authenticator.start(for: user, channel: .webForm)
            let now = Date()
            let claim = Claim(
                id: UUID().uuidString.lowercased(), sessionToken: Crypto.randomToken(), unifiedID: user.unifiedID,
                userID: user.id, channel: .webForm, typeCode: "travel", phone: phone, answers: [:], revision: 1,
                submissionID: "sub_" + Crypto.randomToken(bytes: 16), submittedRevision: 1, submittedAt: now,
                statusHistory: [StatusChange(status: .draft, at: now)], createdAt: now, updatedAt: now,
                expiresAt: now.adding(configuration.draftLifetime))
            try await store.insertClaim(claim)
            let cookiePair = cookie.split(separator: ";").first.map(String.init) ?? cookie
            lines.append("\(claim.sessionToken)\t\(cookiePair)")
        }
        return lines
    }
}
