import PostgresStore
import Testing

/// `CLPR_DATABASE_URL` parsing: no server needed.
@Suite struct ConfigurationTests {
    typealias Configuration = PostgresStore.Configuration

    @Test func parsesAFullURL() throws {
        let configuration = try Configuration(
            url: "postgres://clpr:s%40cr%3At@db.internal:6432/clpr_prod?sslmode=require")
        #expect(configuration.endpoint == .tcp(host: "db.internal", port: 6432))
        #expect(configuration.user == "clpr")
        #expect(configuration.password == "s@cr:t")
        #expect(configuration.database == "clpr_prod")
        #expect(configuration.sslMode == "require")
        #expect(configuration.poolSize == 4)
        #expect(configuration.description == "postgres://clpr:***@db.internal:6432/clpr_prod?sslmode=require")
    }

    @Test func acceptsBothSchemesAndDefaults() throws {
        let configuration = try Configuration(url: "postgresql://127.0.0.1/clpr")
        #expect(configuration.endpoint == .tcp(host: "127.0.0.1", port: 5432))
        #expect(configuration.user == nil)
        #expect(configuration.password == nil)
        #expect(try Configuration(url: "POSTGRES://[::1]:5433/x").endpoint == .tcp(host: "::1", port: 5433))
    }

    @Test func unixSocketHosts() throws {
        #expect(
            try Configuration(url: "postgres://clpr@%2Frun%2Fpostgresql/clpr").endpoint
                == .unixSocket(directory: "/run/postgresql", port: 5432))
        #expect(
            try Configuration(url: "postgres:///clpr?host=/run/postgresql&port=5433").endpoint
                == .unixSocket(directory: "/run/postgresql", port: 5433))
        #expect(
            try Configuration(url: "postgres:///clpr").endpoint
                == .unixSocket(directory: "/var/run/postgresql", port: 5432))
    }

    @Test func queryOptions() throws {
        let configuration = try Configuration(
            url: "postgres://u@h/d?pool_size=12&connect_timeout=3&application_name=clpr%20api&user=other")
        #expect(configuration.poolSize == 12)
        #expect(configuration.connectTimeout == .seconds(3))
        #expect(configuration.parameters == ["application_name": "clpr api"])
        #expect(configuration.user == "other")
        #expect(try Configuration(url: "postgres://h/d", poolSize: 9).poolSize == 9)
    }

    @Test(arguments: [
        "mysql://u@h/d", "h/d", "postgres://u@h:0/d", "postgres://u@h:99999/d", "postgres://u@h:x/d",
        "postgres://u:%zz@h/d", "postgres://u@h/d?pool_size=0", "postgres://u@[::1/d",
    ])
    func rejectsUnusableURLs(_ url: String) {
        #expect(throws: Configuration.InvalidURL.self) { try Configuration(url: url) }
    }

    @Test func errorsNeverEchoThePassword() {
        do {
            _ = try Configuration(url: "postgres://u:hunter2%zz@h/d")
            Issue.record("parsed")
        } catch {
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("password"))
        }
    }
}
