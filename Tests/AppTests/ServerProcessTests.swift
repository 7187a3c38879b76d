import AppCore
import AppTesting
import Foundation
import PostgresStore
import SQLiteStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `clpr` binary as a child process: what only a real process shows (RSS, SIGTERM, exit).
@Suite(.serialized, .enabled(if: RedisTestConfiguration.isEnabled, "needs CLPR_TEST_REDIS_URL (./test starts Redis)"))
struct ServerProcessTests {
    /// `(token, claim id, submission id)` of every seeded claim, read from the SQLite file.
    static func claims(
        _ seeded: [(token: String, cookie: String)], in dataDirectory: String
    ) async throws -> [String: (claimID: String, submissionID: String)] {
        let store = try SQLiteStore(configuration: .init(location: .file(path: dataDirectory + "/clpr.sqlite3")))
        defer { store.close() }
        return try await claims(seeded, in: store)
    }

    /// `(token, claim id, submission id)` of every seeded claim, read from `store`.
    static func claims(
        _ seeded: [(token: String, cookie: String)], in store: any ClaimStore
    ) async throws -> [String: (claimID: String, submissionID: String)] {
        var result: [String: (claimID: String, submissionID: String)] = [:]
        for (token, _) in seeded {
            let claim = try #require(try await store.claim(sessionToken: token))
            result[token] = (claim.id, try #require(claim.submissionID))
        }
        return result
    }

    /// Two `clpr serve` processes on one PostgreSQL database and one Redis, as in production behind a load
    /// balancer: whichever instance holds the browser's stream delivers the plan, and it is stored once.
    @Test(.enabled(if: PostgresTestConfiguration.isEnabled, "needs CLPR_TEST_DATABASE_URL (./test starts PostgreSQL)"))
    func twoInstancesOnOnePostgresAndOneRedisDeliverWhereverTheStreamIs() async throws {
        let redisURL = try RedisTestConfiguration.requireURL()
        try await PostgresTestDatabase.with { database in
            let shared = ["CLPR_DATABASE_URL": database.url]
            let seeded = try await ServerProcess.seed(
                count: 20, in: try ServerProcess.makeDataDirectory(), environment: shared)
            let store = try await database.openStore(poolSize: 1)
            defer { store.close() }
            let ids = try await Self.claims(seeded, in: store)
            let environment = shared.merging([
                "CLPR_REDIS_URL": redisURL, "CLPR_PLANNER": "none", "CLPR_PLAN_TIMEOUT_S": "600",
            ]) { _, new in new }
            let instanceA = try await ServerProcess(
                dataDirectory: try ServerProcess.makeDataDirectory(), environment: environment)
            let instanceB: ServerProcess
            do {
                instanceB = try await ServerProcess(
                    dataDirectory: try ServerProcess.makeDataDirectory(), environment: environment)
            } catch {
                await instanceA.stop()
                throw error
            }
            do {
                for instance in [instanceA, instanceB] {
                    #expect(
                        await eventually(timeout: .seconds(5)) { (try? await instance.get("/readyz").status) == 200 })
                }
                // Half of the streams on each instance; every plan is published once, both instances receive it.
                var streams: [(token: String, stream: EventStream)] = []
                for (index, (token, cookie)) in seeded.enumerated() {
                    let instance = index.isMultiple(of: 2) ? instanceA : instanceB
                    let stream = try await instance.openStream(token: token, cookie: cookie)
                    #expect(stream.head.status == 200)
                    streams.append((token, stream))
                }
                let redis = try RedisTestClient(url: redisURL)
                for (token, _) in streams {
                    let (claimID, submissionID) = try #require(ids[token])
                    let receivers = try await redis.publish(
                        "claim:plan:\(token)",
                        RedisPlanStreamTests.planJSON(token: token, claimID: claimID, submissionID: submissionID))
                    #expect(receivers == 2, "both instances hold a PSUBSCRIBE")
                }
                for (token, stream) in streams {
                    let transcript = try await stream.collect(timeout: .seconds(5))
                    #expect(transcript.events.map(\.event) == ["claim_plan_ready"], "stream of \(token.prefix(6))")
                    #expect(transcript.events.first?.id == ids[token]?.submissionID)
                }
                let rows = try await store.inspect("SELECT count(*) FROM clpr_claim_plans")
                #expect((rows.first?.first ?? nil) == "20", "each plan stored once although both instances received it")
            } catch {
                await instanceA.stop()
                await instanceB.stop()
                throw error
            }
            await instanceA.stop()
            await instanceB.stop()
        }
    }

    @Test func sigtermWith200OpenStreamsExitsWithin5sEndingEveryStreamCleanly() async throws {
        let url = try RedisTestConfiguration.requireURL()
        let directory = try ServerProcess.makeDataDirectory()
        let seeded = try await ServerProcess.seed(count: 200, in: directory)
        let server = try await ServerProcess(
            dataDirectory: directory,
            environment: ["CLPR_REDIS_URL": url, "CLPR_PLANNER": "none", "CLPR_PLAN_TIMEOUT_S": "600"])
        do {
            var streams: [EventStream] = []
            for (token, cookie) in seeded {
                let stream = try await server.openStream(token: token, cookie: cookie)
                #expect(stream.head.status == 200)
                streams.append(stream)
            }
            let exit = try await server.signal(SIGTERM, timeout: .seconds(5))
            let took = try #require(exit, "clpr did not exit within 5 s of SIGTERM: \(server.logTail)")
            print("SIGTERM with 200 open streams: exit after \(took)")
            #expect(server.terminationStatus == 0)
            var clean = 0
            for stream in streams where try await stream.endsCleanly(timeout: .seconds(1)) { clean += 1 }
            #expect(clean == 200, "streams closed by the server after their last byte, none reset")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func twoThousandConnectPublishCloseCyclesKeepRedisClientsAndRSSFlat() async throws {
        let url = try RedisTestConfiguration.requireURL()
        let directory = try ServerProcess.makeDataDirectory()
        let cycles = 2000
        let seeded = try await ServerProcess.seed(count: cycles, in: directory)
        let ids = try await Self.claims(seeded, in: directory)
        let server = try await ServerProcess(
            dataDirectory: directory,
            environment: ["CLPR_REDIS_URL": url, "CLPR_PLANNER": "none", "CLPR_PLAN_TIMEOUT_S": "600"])
        do {
            let redis = try RedisTestClient(url: url)
            #expect(await eventually(timeout: .seconds(5)) { (try? await server.get("/readyz").status) == 200 })
            var clientsAt: [Int: Int] = [:]
            var rssAt: [Int: Int] = [:]
            var delivered = 0
            for (index, (token, cookie)) in seeded.enumerated() {
                let stream = try await server.openStream(token: token, cookie: cookie)
                let (claimID, submissionID) = try #require(ids[token])
                try await redis.publish(
                    "claim:plan:\(token)",
                    RedisPlanStreamTests.planJSON(token: token, claimID: claimID, submissionID: submissionID))
                let transcript = try await stream.collect(timeout: .seconds(5))
                if transcript.events.map(\.event) == ["claim_plan_ready"] { delivered += 1 }
                stream.abort()
                if index + 1 == 200 || index + 1 == cycles {
                    try await Task.sleep(for: .milliseconds(300))
                    clientsAt[index + 1] = try await redis.info("clients", field: "connected_clients")
                    rssAt[index + 1] = server.residentKiB
                }
            }
            print(
                "2000 cycles: delivered \(delivered); Redis connected_clients after 200 / 2000: "
                    + "\(clientsAt[200] ?? -1) / \(clientsAt[cycles] ?? -1); server RSS KiB after 200 / 2000: "
                    + "\(rssAt[200] ?? -1) / \(rssAt[cycles] ?? -1)")
            #expect(delivered == cycles)
            #expect(clientsAt[200] == clientsAt[cycles])
            // The server's own connections: at most the subscriber and one command connection.
            let growth = (rssAt[cycles] ?? 0) - (rssAt[200] ?? 0)
            #expect(growth < 3 * 1024, "RSS grew by \(growth) KiB over 1,800 cycles")
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
