import Testing

@testable import RedisBus

/// `CLPR_REDIS_URL` parsing: what is accepted, what is refused, and that the password never shows.
@Suite struct ConfigurationTests {
    @Test func readsEveryPart() throws {
        let configuration = try RedisPlanBus.Configuration(url: "redis://:s3cr%40t@redis.internal:6380/2")
        #expect(configuration.host == "redis.internal")
        #expect(configuration.port == 6380)
        #expect(configuration.password == "s3cr@t")
        #expect(configuration.user == nil)
        #expect(configuration.database == 2)
        #expect(!configuration.description.contains("s3cr"))
        #expect(configuration.description == "redis://:***@redis.internal:6380/2")
    }

    @Test func defaultsAndACLUser() throws {
        let plain = try RedisPlanBus.Configuration(url: "redis://127.0.0.1")
        #expect(plain.port == 6379)
        #expect(plain.database == 0)
        #expect(plain.password == nil)
        let acl = try RedisPlanBus.Configuration(url: "redis://clpr:pw@[::1]:7000/0")
        #expect(acl.user == "clpr")
        #expect(acl.password == "pw")
        #expect(acl.host == "::1")
        #expect(acl.port == 7000)
    }

    @Test(arguments: [
        "rediss://cache:6380/0", "http://127.0.0.1:6379", "redis://127.0.0.1:99999/0", "redis://127.0.0.1:6379/x",
        "redis://:pw@:6379/0",
    ])
    func refusesUnusableURLs(_ url: String) {
        #expect(throws: RedisPlanBus.Configuration.InvalidURL.self) { try RedisPlanBus.Configuration(url: url) }
    }

    @Test func tlsIsRefusedWithAReason() {
        do {
            _ = try RedisPlanBus.Configuration(url: "rediss://:pw@cache:6380/0")
            Issue.record("rediss:// must be refused")
        } catch {
            #expect(error.problem.contains("TLS"))
            #expect(!error.problem.contains("pw"))
        }
    }
}
