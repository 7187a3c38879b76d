import App
import AppTesting

/// The stores the identity tests run on: SQLite always, PostgreSQL whenever a test cluster is configured (always
/// inside `./test`).
enum IdentityBackend: String, CustomStringConvertible, Sendable {
    case sqlite, postgres

    static var available: [IdentityBackend] { PostgresTestConfiguration.isEnabled ? [.sqlite, .postgres] : [.sqlite] }

    var description: String { rawValue }

    /// Runs `body` with an application on this store (a fresh PostgreSQL database for `.postgres`).
    func withApplication<T: Sendable>(
        configure: @escaping @Sendable (inout Application.Configuration) -> Void = { _ in },
        _ body: (TestApplication) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite:
            return try await withTestApplication(configure: configure, body)
        case .postgres:
            return try await PostgresTestDatabase.with { database in
                try await withTestApplication(database: .postgres(database.configuration), configure: configure, body)
            }
        }
    }
}
