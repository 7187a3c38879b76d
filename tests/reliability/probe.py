"""A probe client: one request every few milliseconds on its own keep-alive connection, timing each answer, so a
test can say how the server served other clients while it was under attack."""

import http.client
import statistics
import threading
import time


class Probe:
    def __init__(self, port: int, path: str = "/api/v1/me", cookie: str | None = None, interval: float = 0.02):
        self.port, self.path, self.cookie, self.interval = port, path, cookie, interval
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        connection = None
        headers = {"Cookie": self.cookie} if self.cookie else {}
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", self.path, headers=headers)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    self.failures.append(f"status {response.status}")
                else:
                    self.latencies.append(elapsed)
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(repr(error))
                if connection is not None:
                    connection.close()
                connection = None
            self._stop.wait(self.interval)
        if connection is not None:
            connection.close()

    def __enter__(self) -> "Probe":
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=15)

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("inf")
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]

    def summary(self) -> str:
        if not self.latencies:
            return f"no answers, {len(self.failures)} failures"
        return (f"{len(self.latencies)} probes, p50 {self.percentile(50) * 1000:.1f} ms, "
                f"p99 {self.percentile(99) * 1000:.1f} ms, max {max(self.latencies) * 1000:.1f} ms, "
                f"mean {statistics.mean(self.latencies) * 1000:.1f} ms, {len(self.failures)} failures")
