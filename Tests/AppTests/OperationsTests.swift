import AppCore
import AppTesting
import Foundation
import HTTPServer
import Testing

@testable import App

/// `/metrics`, request ids and the request log line (issue 8).
@Suite struct OperationsTests {
    /// The sample lines of `name` (with labels), as `labels → value`.
    static func samples(_ name: String, in text: String) -> [(labels: String, value: Double)] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), line.hasPrefix(name + "{") || line.hasPrefix(name + " ") else { return nil }
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { return nil }
            let series = parts[0].dropFirst(name.count)
            return (String(series), value)
        }
    }

    @Test func metricsCountRequestsByRoutePatternWithoutTokensOrPhones() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            _ = try #require(try await app.waitForPlan(claimID: submission.claimID, cookie: cookie))
            _ = try await app.claim(submission.claimID, cookie: cookie)
            _ = try await app.json("GET", "/api/v1/claims/\(submission.claimID)", cookie: nil)
            _ = try await app.request("GET", "/api/v1/no-such-thing/\(submission.sessionToken)")

            // The intake counts a plan just after storing it: wait for the count rather than race it.
            #expect(
                try await eventually(timeout: .seconds(3)) {
                    try await app.request("GET", "/metrics").text.contains(#"clpr_plans_total{outcome="stored"} 1"#)
                })
            let response = try await app.request("GET", "/metrics")
            #expect(response.status == 200)
            #expect(response[header: "Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            let requests = Self.samples("clpr_http_requests_total", in: text)
            func count(_ labels: String) -> Double? { requests.first { $0.labels == labels }?.value }
            #expect(count(#"{route="/api/v1/claims/:claim_id",method="GET",status="200"}"#) ?? 0 >= 2)
            #expect(count(#"{route="/api/v1/claims/:claim_id",method="GET",status="401"}"#) == 1)
            #expect(count(#"{route="/api/v1/claims/wizard",method="POST",status="202"}"#) == 1)
            #expect(count(#"{route="/api/v1/auth/phone/verify",method="POST",status="200"}"#) == 1)
            #expect(count(#"{route="/*path",method="GET",status="404"}"#) == 1)
            #expect(text.contains("# TYPE clpr_http_request_duration_seconds histogram"))
            #expect(text.contains(#"clpr_http_request_duration_seconds_count{route="/api/v1/claims/wizard"} 1"#))
            #expect(text.contains("clpr_plan_streams_open 0"))
            #expect(text.contains("clpr_outbox_sent_total 0"))
            #expect(text.contains("clpr_outbox_dead_total 0"))
            // Bounded labels: no id, token or phone from a request ever becomes part of a metric.
            for secret in [
                submission.claimID, submission.sessionToken, submission.submissionID, TestApplication.phone,
                "79161234567",
                cookie,
            ] {
                #expect(!text.contains(secret), "\(secret) leaked into /metrics")
            }
        }
    }

    @Test func histogramBucketsAreCumulative() async throws {
        try await withTestApplication { app in
            for _ in 0..<5 { _ = try await app.request("GET", "/healthz") }
            let text = try await app.request("GET", "/metrics").text
            let buckets = Self.samples("clpr_http_request_duration_seconds_bucket", in: text)
                .filter { $0.labels.hasPrefix(#"{route="/healthz","#) }
            #expect(buckets.count == Histogram.defaultBuckets.count + 1)
            #expect(buckets.last?.labels == #"{route="/healthz",le="+Inf"}"#)
            #expect(buckets.last?.value == 5)
            for (lower, upper) in zip(buckets, buckets.dropFirst()) { #expect(lower.value <= upper.value) }
            let total = Self.samples("clpr_http_request_duration_seconds_count", in: text)
                .first { $0.labels == #"{route="/healthz"}"# }
            #expect(total?.value == 5)
        }
    }

    @Test func streamGaugeGoesUpAndDown() async throws {
        try await withTestApplication {
            $0.planner = .none
        } _: { app in
            func gauge() async throws -> Double? {
                Self.samples("clpr_plan_streams_open", in: try await app.request("GET", "/metrics").text).first?.value
            }
            #expect(try await gauge() == 0)
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let stream = try await app.openStream(submission.streamURL, cookie: cookie)
            #expect(stream.head.status == 200)
            #expect(await app.waitForStreams(1))
            #expect(try await gauge() == 1)
            stream.abort()
            #expect(await app.waitForStreams(0, timeout: .seconds(5)))
            #expect(try await gauge() == 0)
            let text = try await app.request("GET", "/metrics").text
            #expect(text.contains(#"clpr_plan_streams_ended_total{reason="client_gone"} 1"#))
        }
    }

    @Test func endedStreamsAreCountedByReason() async throws {
        try await withTestApplication {
            $0.plannerDelay = .milliseconds(300)
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            // Live delivery, then a reconnect answered at once from the store.
            for _ in 0..<2 {
                let stream = try await app.openStream(submission.streamURL, cookie: cookie)
                let transcript = try await stream.collect(timeout: .seconds(10))
                #expect(transcript.events.map(\.event) == ["claim_plan_ready"])
            }
            #expect(await app.waitForStreams(0))
            let text = try await app.request("GET", "/metrics").text
            #expect(text.contains(#"clpr_plan_streams_ended_total{reason="delivered"} 2"#))
            #expect(!text.contains(#"reason="client_gone""#))
        }
        try await withTestApplication {
            $0.planner = .none
            $0.planTimeout = .seconds(1)
        } _: { app in
            let cookie = try await app.login()
            let submission = try await app.submitNewClaim(cookie: cookie)
            let transcript = try await app.openStream(submission.streamURL, cookie: cookie).collect(
                timeout: .seconds(10))
            #expect(transcript.events.map(\.event) == ["claim_plan_timeout"])
            #expect(await app.waitForStreams(0))
            let text = try await app.request("GET", "/metrics").text
            #expect(text.contains(#"clpr_plan_streams_ended_total{reason="timeout"} 1"#))
        }
    }

    @Test(.enabled(if: PostgresTestConfiguration.isEnabled, "set CLPR_TEST_DATABASE_URL"))
    func postgresPoolInUseIsShown() async throws {
        try await PostgresTestDatabase.with { database in
            try await withTestApplication(database: .postgres(database.configuration)) { app in
                _ = try await app.login()
                let text = try await app.request("GET", "/metrics").text
                #expect(text.contains("# TYPE clpr_db_pool_in_use gauge\nclpr_db_pool_in_use 0\n"))
            }
        }
    }

    /// `clpr_outbox_items{state}` and the oldest pending item's age, read at a scrape at most every 5 s.
    @Test func outboxDepthIsShownAndSampled() async throws {
        try await withTestApplication { app in
            func gauges() async throws -> (pending: Double?, dead: Double?, age: Double?) {
                let text = try await app.request("GET", "/metrics").text
                let items = Self.samples("clpr_outbox_items", in: text)
                return (
                    items.first { $0.labels == #"{state="pending"}"# }?.value,
                    items.first { $0.labels == #"{state="dead"}"# }?.value,
                    Self.samples("clpr_outbox_oldest_pending_age_seconds", in: text).first?.value
                )
            }
            let empty = try await gauges()
            #expect(empty.pending == 0 && empty.dead == 0 && empty.age == 0)

            // No sender is configured, so nothing takes these items but this test.
            let store = app.application.store
            let written = Date().addingTimeInterval(-30)
            try await store.enqueue(
                ["a", "b", "c"].map {
                    OutboxMessage(kind: .planRequest, key: $0, body: "{}", resendWhenFinished: false)
                }, now: written)
            let leased = try await store.leaseOutboxItems(
                kind: .planRequest, now: Date(), limit: 1, leaseUntil: Date().addingTimeInterval(60), owner: "test")
            let item = try #require(leased.first)
            #expect(try await store.completeOutboxItem(id: item.id, owner: "test", .dead(at: Date(), error: "x")))

            // Within 5 s of the last reading the scrape shows that reading; afterwards the store is read again.
            let cached = try await gauges()
            #expect(cached.pending == 0 && cached.dead == 0)
            try await Task.sleep(for: .seconds(5.2))
            let fresh = try await gauges()
            #expect(fresh.pending == 2)
            #expect(fresh.dead == 1)
            #expect((30...40).contains(fresh.age ?? 0), "\(String(describing: fresh.age))")
        }
    }

    /// A store that cannot be reached answers 503 `database_unavailable` with `Retry-After` (not 500), and
    /// `/readyz` names the database.
    @Test func unreachableDatabaseAnswers503WithRetryAfter() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            app.application.database.close()
            let drafts = try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie)
            #expect(drafts.status == 503)
            #expect(drafts.errorCode == "database_unavailable")
            #expect(drafts[header: "Retry-After"] == "5")
            let submit = try await app.json(
                "POST", "/api/v1/claims/wizard",
                raw: #"{"type_code": "travel", "answers": {}}"#, cookie: cookie)
            #expect(submit.status == 503)
            let ready = try await app.request("GET", "/readyz")
            #expect(ready.status == 503)
            #expect(ready.json?["failing"]?.string == "database")
            #expect(try await app.request("GET", "/healthz").status == 200)
            #expect(try await app.request("GET", "/metrics").status == 200)
            #expect(!app.logs.entries.contains { $0.message == "unhandled error" })
        }
    }

    @Test func everyResponseCarriesARequestIDThatTheLogLineNames() async throws {
        try await withTestApplication { app in
            let ok = try await app.request("GET", "/healthz")
            let notFound = try await app.request("GET", "/api/v1/nothing-here")
            let unauthenticated = try await app.json("GET", "/api/v1/me")
            let badJSON = try await app.json("POST", "/api/v1/auth/phone", raw: "{not json")
            #expect(ok.status == 200)
            #expect(notFound.status == 404)
            #expect(unauthenticated.status == 401)
            #expect(badJSON.status == 400)
            var ids: Set<String> = []
            for response in [ok, notFound, unauthenticated, badJSON] {
                let id = try #require(
                    response[header: "X-Request-Id"], "status \(response.status) without X-Request-Id")
                #expect(id.count == 16 && id.allSatisfy(\.isHexDigit))
                ids.insert(id)
            }
            #expect(ids.count == 4)

            let lines = app.logs.entries.filter { $0.message == "request" }
            for (response, route) in [
                (ok, "/healthz"), (unauthenticated, "/api/v1/me"), (badJSON, "/api/v1/auth/phone"),
            ] {
                let id = try #require(response[header: "X-Request-Id"])
                let line = try #require(lines.first { $0.metadata["request.id"] == id })
                #expect(line.metadata["route"] == route)
                #expect(line.metadata["status"] == String(response.status))
                #expect(line.metadata["duration_ms"] != nil)
            }
        }
    }
}
