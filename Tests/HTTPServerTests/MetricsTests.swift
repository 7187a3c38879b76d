import Testing

@testable import HTTPServer

@Suite struct MetricsTests {
    @Test func rendersCountersGaugesAndCumulativeHistograms() {
        let metrics = Metrics()
        let counter = metrics.counter("jobs_total", help: "Jobs done.", labels: ["kind"])
        counter.increment(["b"])
        counter.increment(["a"], by: 2)
        metrics.gauge("queue_depth", help: "Queued.") { 3 }
        let histogram = metrics.histogram("wait_seconds", help: "Waits.", buckets: [0.1, 1, 10])
        for value in [0.05, 0.5, 0.5, 20] { histogram.observe(value) }

        #expect(
            metrics.render() == """
                # HELP jobs_total Jobs done.
                # TYPE jobs_total counter
                jobs_total{kind="a"} 2
                jobs_total{kind="b"} 1
                # HELP queue_depth Queued.
                # TYPE queue_depth gauge
                queue_depth 3
                # HELP wait_seconds Waits.
                # TYPE wait_seconds histogram
                wait_seconds_bucket{le="0.1"} 1
                wait_seconds_bucket{le="1"} 3
                wait_seconds_bucket{le="10"} 3
                wait_seconds_bucket{le="+Inf"} 4
                wait_seconds_sum 21.05
                wait_seconds_count 4

                """)
    }

    @Test func labelValuesAreEscaped() {
        let metrics = Metrics()
        metrics.counter("odd_total", help: "Odd.", labels: ["value"]).increment(["a\"b\\c\nd"])
        #expect(metrics.render().contains(#"odd_total{value="a\"b\\c\nd"} 1"#))
    }

    @Test func unknownMethodsAndUnmatchedPathsStayBounded() {
        let metrics = Metrics()
        let http = HTTPMetrics(registry: metrics)
        http.record(route: nil, method: HTTPMethod(rawValue: "BREW"), status: 404, seconds: 0.002)
        #expect(http.requests.value(["unmatched", "other", "404"]) == 1)
    }
}
