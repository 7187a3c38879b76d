import AppCore
import AppTesting
import Foundation
import Testing

@testable import App

/// Two instances on one database behind a load balancer: a code sent by one signs in on the other.
@Suite(.enabled(if: PostgresTestConfiguration.isEnabled, "needs CLPR_TEST_DATABASE_URL (./test starts PostgreSQL)"))
struct SharedLoginKeyTests {
    @Test func codeSentByOneInstanceVerifiesOnAnother() async throws {
        try await PostgresTestDatabase.with { database in
            // Separate data directories: nothing but the database is shared.
            let first = try await TestApplication.start(database: .postgres(database.configuration))
            let second: TestApplication
            do {
                second = try await TestApplication.start(database: .postgres(database.configuration))
            } catch {
                await first.shutdown()
                throw error
            }
            do {
                #expect(first.dataDirectory != second.dataDirectory)
                let phone = "+79165550101"
                #expect(try await first.requestCode(phone: phone).status == 200)
                let code = try #require(first.lastLoginCode)
                let verified = try await second.verifyCode(code, phone: phone)
                #expect(verified.status == 200)
                #expect(TestApplication.sessionCookie(in: verified) != nil)
            } catch {
                await first.shutdown()
                await second.shutdown()
                throw error
            }
            await first.shutdown()
            await second.shutdown()
        }
    }

    @Test func theKeyIsCreatedOnceAndKeptAcrossRestarts() async throws {
        try await PostgresTestDatabase.with { database in
            let store = try await database.openStore(poolSize: 1)
            defer { store.close() }
            try store.migrate()
            let first = try store.serverKey(named: "test", candidate: String(repeating: "01", count: 32))
            let second = try store.serverKey(named: "test", candidate: String(repeating: "02", count: 32))
            #expect(first == String(repeating: "01", count: 32))
            #expect(second == first)
        }
    }
}
