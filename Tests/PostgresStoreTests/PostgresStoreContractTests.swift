import AppCore
import AppTesting
import PostgresStore
import Testing

/// The store contract (the same checks as SQLite and the in-memory store pass) against PostgreSQL, each test in a
/// database of its own.
@Suite(.enabled(if: TestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
struct PostgresStoreContractTests {
    private func contract(_ body: (StoreContract) async throws -> Void) async throws {
        try await withPostgresStore { store, _ in
            try await body(StoreContract(store: store, nulCharacters: .refused))
        }
    }

    @Test func findOrCreateUserIsStable() async throws {
        try await contract { try await $0.findOrCreateUserIsStable() }
    }

    @Test func parallelFindOrCreateUserYieldsOneUser() async throws {
        try await contract { try await $0.parallelFindOrCreateUserYieldsOneUser() }
    }

    @Test func insertAndLoadRoundTrips() async throws {
        try await contract { try await $0.insertAndLoadRoundTrips() }
    }

    @Test func draftsAreFoundByUnifiedIDOnly() async throws {
        try await contract { try await $0.draftsAreFoundByUnifiedIDOnly() }
    }

    @Test func updateClaimIsAtomic() async throws {
        try await contract { try await $0.updateClaimIsAtomic() }
    }

    @Test func parallelUpdatesDoNotLoseWrites() async throws {
        try await contract { try await $0.parallelUpdatesDoNotLoseWrites() }
    }

    @Test func awkwardValuesRoundTrip() async throws {
        try await contract { try await $0.awkwardValuesRoundTrip() }
    }

    @Test func planRecordsAreStoredOnce() async throws {
        try await contract { try await $0.planRecordsAreStoredOnce() }
    }

    @Test func loginCodesCountFailedAttempts() async throws {
        try await contract { try await $0.loginCodesCountFailedAttempts() }
    }

    @Test func sessionsLifecycle() async throws {
        try await contract { try await $0.sessionsLifecycle() }
    }

    @Test func rateEventsAreCountedPerWindow() async throws {
        try await contract { try await $0.rateEventsAreCountedPerWindow() }
    }

    @Test func loginCodesAreConsumedOnce() async throws {
        try await contract { try await $0.loginCodesAreConsumedOnce() }
    }

    @Test func telegramUsersAreUpserted() async throws {
        try await contract { try await $0.telegramUsersAreUpserted() }
    }

    @Test func parallelTelegramUpsertsYieldOneUser() async throws {
        try await contract { try await $0.parallelTelegramUpsertsYieldOneUser() }
    }

    @Test func linkingANewPhoneGivesTheTelegramUserTheWebAccount() async throws {
        try await contract { try await $0.linkingANewPhoneGivesTheTelegramUserTheWebAccount() }
    }

    @Test func linkingMergesTheTelegramUserIntoTheWebUser() async throws {
        try await contract { try await $0.linkingMergesTheTelegramUserIntoTheWebUser() }
    }

    @Test func allSessionsOfAPersonCanBeRevoked() async throws {
        try await contract { try await $0.allSessionsOfAPersonCanBeRevoked() }
    }
}
