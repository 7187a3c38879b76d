import AppCore
import Crypto
import FoundationEssentials
import Logging
import PostgresStore
import SQLiteStore

/// Seeding for load tests (`clpr bench-seed`): signed-in sessions made exactly as a login makes them, written as
/// the lines the load tools read. Nothing here bypasses the rules the server applies.
public enum BenchSeeder {
    public enum Mode: Sendable, Equatable {
        /// N submitted claims, each with its own person and session: `TOKEN<TAB>COOKIE` lines (`--tokens-file` of
        /// `bench/loadgen.py`).
        case submittedClaims(count: Int)
        /// N people (users + `web_form` accounts, created when absent) signed in: `PHONE<TAB>COOKIE` lines
        /// (`WIZARD_PEOPLE_FILE` of `bench/wizard`). Person *i* has the number the wizard harness gives person
        /// *i* (`9` + `(i·7919 + 104729) mod 10⁹`, zero-padded).
        case people(count: Int)
        /// N random existing users of the database signed in: `UNIFIED_ID<TAB>COOKIE` lines (`DRAFTS_IDS_FILE` of
        /// `bench/wizard`, for the draft-lookup data set).
        case existingUsers(count: Int)

        public var count: Int {
            switch self {
            case .submittedClaims(let count), .people(let count), .existingUsers(let count): count
            }
        }
    }

    /// Sessions created at once.
    private static let parallelism = 16

    public static func seed(_ mode: Mode, configuration: Application.Configuration) async throws -> [String] {
        let database = try Application.openDatabase(
            configuration, logger: Logger(label: "clpr.bench-seed", logLevel: .warning))
        defer { database.close() }
        let authenticator = Authenticator(
            store: database.store, lifetime: configuration.sessionLifetime, secureCookies: configuration.secureCookies)
        switch mode {
        case .submittedClaims(let count):
            return try await submittedClaims(
                count: count, store: database.store, authenticator: authenticator, configuration: configuration)
        case .people(let count):
            let store = database.store
            return try await inParallel(0..<count) { index in
                let digits = String((index * 7919 + 104_729) % 1_000_000_000)
                let phone = "+79" + String(repeating: "0", count: 9 - digits.count) + digits
                let user = try await store.findOrCreateUser(channel: .webForm, channelUserID: phone, phone: phone)
                let cookie = try await authenticator.start(for: user, channel: .webForm)
                return "\(phone)\t\(cookiePair(cookie))"
            }
        case .existingUsers(let count):
            let users = try await randomUsers(count, database)
            return try await inParallel(users.indices) { index in
                let cookie = try await authenticator.start(for: users[index], channel: .webForm)
                return "\(users[index].unifiedID)\t\(cookiePair(cookie))"
            }
        }
    }

    private static func submittedClaims(
        count: Int, store: any IdentityStore & ClaimStore, authenticator: Authenticator,
        configuration: Application.Configuration
    ) async throws -> [String] {
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
            lines.append("\(claim.sessionToken)\t\(cookiePair(cookie))")
        }
        return lines
    }

    /// Up to `count` users picked at random (users without a `unified_id` cannot sign in and are left out).
    private static func randomUsers(_ count: Int, _ database: Database) async throws -> [User] {
        let sql = """
            SELECT id, unified_id, phone FROM clpr_users WHERE unified_id IS NOT NULL AND unified_id <> ''
            ORDER BY random() LIMIT
            """
        switch database {
        case .postgres(let store):
            return try await store.inspect(sql + " $1", [.int(count)]).compactMap { row in
                guard let id = row[0].flatMap({ Int64($0) }), let unifiedID = row[1] else { return nil }
                return User(id: id, unifiedID: unifiedID, phone: row[2])
            }
        case .sqlite(let store):
            return try await store.inspect(sql + " ?", [.integer(Int64(count))]).compactMap { row in
                guard case .integer(let id) = row[0], case .text(let unifiedID) = row[1] else { return nil }
                guard case .text(let phone) = row[2] else { return User(id: id, unifiedID: unifiedID, phone: nil) }
                return User(id: id, unifiedID: unifiedID, phone: phone)
            }
        }
    }

    /// `body` for every index, ``parallelism`` at a time; results in index order.
    private static func inParallel<Indices: Collection & Sendable>(
        _ indices: Indices, _ body: @escaping @Sendable (Int) async throws -> String
    ) async throws -> [String] where Indices.Element == Int {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var results = [String?](repeating: nil, count: indices.count)
            var iterator = indices.enumerated().makeIterator()
            func addNext() {
                guard let (position, index) = iterator.next() else { return }
                group.addTask { (position, try await body(index)) }
            }
            for _ in 0..<parallelism { addNext() }
            while let (position, line) = try await group.next() {
                results[position] = line
                addNext()
            }
            return results.compactMap { $0 }
        }
    }

    private static func cookiePair(_ cookie: String) -> String {
        cookie.split(separator: ";").first.map(String.init) ?? cookie
    }
}
