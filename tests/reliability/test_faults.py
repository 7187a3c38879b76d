"""Faults against a real `clpr serve` (release binary, CLPR_BINARY): PostgreSQL stopped under load, Redis stopped
under 100 waiting streams, n8n failing 30% of its calls, SIGTERM under load. Each test starts PostgreSQL, Redis
and the fake n8n of its own (scripts/postgres.sh, scripts/redis.sh, tests/fake-n8n), so stopping them touches
nothing else ./test runs.
"""

import json
import random
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

import harness
from harness import ANSWERS, Clpr, Postgres, Redis, Stream, json_of, request

N8N_SECRET = "reliability-n8n-secret-0123456789"


class Load:
    """Threads submitting claims the way the web app does (create a draft, then submit it), until stopped.
    Every answer is kept: (kind, status, headers, body, claim_id, when)."""

    def __init__(self, port, people, threads=6):
        self.port = port
        self.people = people
        self.results = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]
        for t in self.threads:
            t.start()

    def _record(self, *entry):
        with self.lock:
            self.results.append(entry)

    def _run(self, index):
        rng = random.Random(index)
        while not self.stopping.is_set():
            _, cookie = self.people[rng.randrange(len(self.people))]
            type_code = rng.choice(list(ANSWERS))
            try:
                if rng.random() < 0.3:  # created and submitted in one request (one transaction)
                    status, headers, body = request(
                        self.port, "POST", "/api/v1/claims/wizard",
                        {"type_code": type_code, "answers": ANSWERS[type_code]}, cookie=cookie, timeout=15)
                    claim_id = json_of(body)["claim_id"] if status == 202 else None
                    self._record("submit", status, headers, body, claim_id, time.monotonic())
                    continue
                status, headers, body = request(self.port, "POST", "/api/v1/claims", {"type_code": type_code},
                                                cookie=cookie, timeout=15)
                self._record("create", status, headers, body, None, time.monotonic())
                if status != 201:
                    time.sleep(0.05)
                    continue
                claim = json_of(body)
                status, headers, body = request(
                    self.port, "POST", "/api/v1/claims/wizard",
                    {"claim_id": claim["claim_id"], "answers": ANSWERS[type_code], "revision": claim["revision"]},
                    cookie=cookie, timeout=15)
                self._record("submit", status, headers, body, claim["claim_id"], time.monotonic())
            except OSError as error:  # refused after the server stopped listening (SIGTERM test)
                self._record("error", 0, {}, str(error).encode(), None, time.monotonic())
                time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)

    def of(self, kind, status=None):
        return [r for r in self.results if r[0] == kind and (status is None or r[1] == status)]


def claims_in(pg: Postgres, database="postgres"):
    """Every claim row: id → (status, submission_id, submitted_revision, revision, answers, submitted_at)."""
    url = pg.url.rsplit("/", 1)[0] + "/" + database
    out = subprocess.run(
        ["psql", url, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c",
         "SELECT id, status_code, coalesce(submission_id, ''), coalesce(submitted_revision, -1), revision, "
         "payload->'answers', coalesce(submitted_at::text, '') FROM clpr_claims"],
        check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        cid, status, sub, srev, rev, answers, at = line.split("\t")
        rows[cid] = (status, sub or None, int(srev), int(rev), json.loads(answers) if answers else {}, at)
    return rows


# MARK: - PostgreSQL stopped for 10 s


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_stopped_for_10s_under_submissions(mode):
    """`fast`: stopped as by the service manager; `immediate`: crashed (no shutdown checkpoint)."""
    pg = Postgres(durable=True)
    server = Clpr({"CLPR_DATABASE_URL": pg.url, "CLPR_PLANNER_DELAY_MS": "100"})
    try:
        people = server.seed_people(30)
        server.start()
        load = Load(server.port, people)
        time.sleep(4)
        pg.stop(mode)
        stopped_at = time.monotonic()
        time.sleep(2)
        # Meanwhile: alive, not ready, and the reason named.
        assert request(server.port, "GET", "/healthz")[0] == 200
        ready_status, _, ready_body = request(server.port, "GET", "/readyz")
        assert ready_status == 503 and json_of(ready_body)["failing"] == "database", ready_body
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped_at)))
        pg.start()
        restarted_at = time.monotonic()
        time.sleep(8)
        load.stop()
        assert server.process.poll() is None, "clpr died:\n" + server.log_text()[-3000:]
        assert request(server.port, "GET", "/readyz")[0] == 200

        answered = [r for r in load.results if r[0] != "error"]
        assert not load.of("error"), load.of("error")[:3]
        statuses = {r[1] for r in answered}
        assert statuses <= {201, 202, 503}, [(r[0], r[1], r[3][:200]) for r in answered if r[1] not in (201, 202, 503)]
        unavailable = [r for r in answered if r[1] == 503]
        assert len(unavailable) >= 10, "the outage was not seen"
        for _, _, headers, body, _, _ in unavailable:
            assert headers.get("retry-after", "").isdigit(), headers
            assert json_of(body)["error"]["code"] == "database_unavailable", body
        # Recovery without restart: submissions succeed again within a few seconds of the database's return.
        recovered = [r for r in load.of("submit", 202) if r[5] > restarted_at]
        assert len(recovered) >= 10, f"{len(recovered)} submissions after the restart"
        first = min(r[5] for r in recovered) - restarted_at
        assert first < 5, f"first success {first:.1f} s after the database came back"

        # No half-written claim: every 202 is stored with its submission; every claim is either an untouched
        # empty draft or completely submitted (answers, revision, submission id and time together).
        rows = claims_in(pg)
        for _, _, _, body, claim_id, _ in load.of("submit", 202):
            answer = json_of(body)
            assert rows[claim_id][1] == answer["submission_id"], (claim_id, rows[claim_id])
        # Rows = drafts answered 201 + one-step submissions answered 202, give or take a commit or two whose
        # answer the outage swallowed: a failed one-step submission leaves no empty draft behind.
        drafted = {json_of(c[3])["claim_id"] for c in load.of("create", 201)}
        one_step = [r for r in load.of("submit", 202) if r[4] not in drafted]
        expected = len(load.of("create", 201)) + len(one_step)
        assert expected <= len(rows) <= expected + 2, (len(rows), expected)
        for claim_id, (status, sub, srev, rev, answers, at) in rows.items():
            if sub is None:
                assert answers == {} and srev == -1 and at == "", (claim_id, rows[claim_id])
            else:
                assert status == "draft" and answers in ANSWERS.values() and srev == rev and at, (claim_id, rows[claim_id])
        print(f"\nRELIABILITY fault postgres ({mode} stop): {len(load.of('submit', 202))} submissions 202, {len(unavailable)} answers 503 "
              f"(all database_unavailable + Retry-After), 0 x 500, first 202 {first:.2f} s after the database "
              f"returned, {len(rows)} claims checked")
        metrics = server.metrics()
        assert not any(k.startswith("clpr_http_requests_total") and 'status="500"' in k for k in metrics), \
            [k for k in metrics if 'status="5' in k]
    finally:
        server.stop()
        pg.close()


# MARK: - Redis stopped for 10 s with 100 streams waiting


def redis_publish(port, channel, payload: bytes):
    def command(*parts):
        out = b"*%d\r\n" % len(parts)
        for part in parts:
            data = part if isinstance(part, bytes) else part.encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        return out

    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(command("PUBLISH", channel, payload))
        assert conn.recv(64).startswith(b":")


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_redis_stopped_for_10s_with_100_streams_waiting():
    redis = Redis()
    server = Clpr({"CLPR_REDIS_URL": redis.url, "CLPR_PLANNER": "none", "CLPR_PLAN_TIMEOUT_S": "300",
                   "CLPR_SSE_HEARTBEAT_S": "2"})
    try:
        server.run("bench-seed", "--count", "100", "--tokens-file", str(server.work / "tokens"))
        seeded = [line.split("\t") for line in (server.work / "tokens").read_text().splitlines()]
        db = sqlite3.connect(f"file:{server.work / 'data' / 'clpr.sqlite3'}?mode=ro", uri=True)
        claims = {t: (cid, sub, tc) for t, cid, sub, tc in db.execute(
            "SELECT session_token, id, submission_id, type_code FROM clpr_claims WHERE submission_id IS NOT NULL")}
        db.close()
        server.start()
        streams = {token: Stream(server.port, token, cookie, timeout=120) for token, cookie in seeded}
        wait_for(lambda: server.metrics().get("clpr_plan_streams_open") == 100, 20, "100 open streams")
        # The gauge counts a stream once it is registered, which can be before its client has read the head.
        wait_for(lambda: all(s.opened.is_set() for s in streams.values()), 20, "100 response heads")
        assert all(s.status == 200 for s in streams.values())

        redis.stop()
        wait_for(lambda: request(server.port, "GET", "/readyz")[0] == 503, 10, "/readyz to report Redis")
        assert json_of(request(server.port, "GET", "/readyz")[2])["failing"] == "redis"
        time.sleep(10)
        assert server.process.poll() is None
        assert not any(s.done.is_set() for s in streams.values()), "streams ended while Redis was down"
        redis.start()
        wait_for(lambda: request(server.port, "GET", "/readyz")[0] == 200, 30, "the subscription to come back")

        for token, (claim_id, submission_id, type_code) in claims.items():
            plan = {
                "version": 1, "session_token": token, "claim_id": claim_id, "submission_id": submission_id,
                "type_code": type_code, "title": "Заявление", "summary": "После перерыва Redis.",
                "fields": [{"key": "k", "label": "Поле", "value": "значение"}],
                "required_documents": [], "next_steps": ["Подтвердите заявление."], "source": "fault-test",
            }
            redis_publish(redis.port, "claim:plan:" + token, json.dumps(plan, ensure_ascii=False).encode())
        for stream in streams.values():
            stream.wait(20)
        missing = [t for t, s in streams.items() if (s.plan() or {}).get("submission_id") != claims[t][1]]
        assert not missing, f"{len(missing)} of 100 plans not delivered, e.g. {streams[missing[0]].names()}"
        assert all(s.ended == "eof" and s.names() == ["claim_plan_ready"] for s in streams.values())
        reconnects = server.metrics()["clpr_redis_reconnects_total"]
        assert reconnects >= 1
        print(f"\nRELIABILITY fault redis: 100/100 plans delivered after a 10 s outage, {reconnects:.0f} reconnects")
    finally:
        server.stop()
        redis.close()


# MARK: - n8n failing 30% of its calls


def test_n8n_failing_30_percent_loses_and_repeats_nothing():
    redis = Redis()
    n8n = subprocess.Popen(
        [sys.executable, str(harness.ROOT / "tests/fake-n8n/fake_n8n.py"), "--mode", "flaky", "--fail-rate", "0.3",
         "--seed", "8", "--secret", N8N_SECRET, "--redis", redis.url, "--delay-ms", "50"],
        stdout=subprocess.PIPE, text=True)
    n8n_port = int(n8n.stdout.readline().split()[1])
    server = Clpr({"CLPR_REDIS_URL": redis.url, "CLPR_N8N_WEBHOOK_URL": f"http://127.0.0.1:{n8n_port}/webhook/clpr",
                   "CLPR_N8N_SECRET": N8N_SECRET, "CLPR_PLAN_TIMEOUT_S": "300", "CLPR_OUTBOX_TIMEOUT_S": "5"})
    try:
        people = server.seed_people(20)
        server.start()
        submitted = []
        for i in range(60):
            _, cookie = people[i % len(people)]
            type_code = list(ANSWERS)[i % 3]
            status, _, body = request(server.port, "POST", "/api/v1/claims/wizard",
                                      {"type_code": type_code, "answers": ANSWERS[type_code]}, cookie=cookie)
            assert status == 202, body
            submitted.append((json_of(body), cookie))
        streams = [(answer, Stream(server.port, answer["session_token"], cookie, timeout=120))
                   for answer, cookie in submitted]
        # Retries back off 1, 2, 4, 8… s (with jitter): seven failures in a row for one item (p ≈ 0.3^7 per item)
        # still fit in the wait.
        for _, stream in streams:
            stream.wait(180)
        late = [a["submission_id"] for a, s in streams if (s.plan() or {}).get("submission_id") != a["submission_id"]]
        assert not late, f"{len(late)} of 60 submissions never planned"
        assert all(s.names() == ["claim_plan_ready"] for _, s in streams)

        with urllib.request.urlopen(f"http://127.0.0.1:{n8n_port}/stats") as r:
            stats = json.load(r)
        keys = {a["submission_id"] for a, _ in streams}
        failed_calls = sum(stats["requests"].values()) - sum(stats["accepted"].values())
        assert failed_calls >= 5, f"only {failed_calls} calls failed: the fault was not exercised"
        # Each submission's webhook was accepted exactly once and its plan published once.
        assert {k: stats["accepted"].get(k, 0) for k in keys} == {k: 1 for k in keys}
        assert {k: stats["published"].get(k, 0) for k in keys} == {k: 1 for k in keys}
        metrics = server.metrics()
        assert metrics.get('clpr_plans_total{outcome="stored"}') == 60
        assert metrics.get('clpr_plans_total{outcome="duplicate"}', 0) == 0
        assert metrics["clpr_outbox_retried_total"] == failed_calls
        assert metrics['clpr_outbox_items{state="pending"}'] == 0
        assert metrics['clpr_outbox_items{state="dead"}'] == 0
        print(f"\nRELIABILITY fault n8n: 60/60 planned once, {failed_calls} of {sum(stats['requests'].values())} calls failed")
    finally:
        server.stop()
        n8n.terminate()
        n8n.wait()
        redis.close()


# MARK: - SIGTERM under load


def test_sigterm_under_load_exits_fast_and_loses_no_accepted_submission():
    pg = Postgres()
    server = Clpr({"CLPR_DATABASE_URL": pg.url, "CLPR_PLANNER": "none", "CLPR_SSE_HEARTBEAT_S": "1"})
    try:
        people = server.seed_people(30)
        server.start()
        # 20 streams waiting for plans that will not come before the shutdown.
        waiting = []
        for i in range(20):
            _, cookie = people[i]
            status, _, body = request(server.port, "POST", "/api/v1/claims/wizard",
                                      {"type_code": "travel", "answers": ANSWERS["travel"]}, cookie=cookie)
            assert status == 202, body
            waiting.append(Stream(server.port, json_of(body)["session_token"], cookie, timeout=30))
        wait_for(lambda: server.metrics().get("clpr_plan_streams_open") == 20, 10, "20 open streams")
        load = Load(server.port, people, threads=8)
        time.sleep(3)
        took = server.stop(timeout=10)
        load.stop()
        assert took < 5, f"exit took {took:.2f} s"
        assert server.process.returncode == 0, server.log_text()[-2000:]
        for stream in waiting:
            stream.wait(5)
        assert all(s.ended == "eof" for s in waiting), [s.ended for s in waiting]

        accepted = load.of("submit", 202)
        assert len(accepted) >= 20, "too little load before the signal"
        statuses = {r[1] for r in load.results if r[0] != "error"}
        assert statuses <= {201, 202, 503}, statuses
        rows = claims_in(pg)
        lost = [json_of(b)["submission_id"] for _, _, _, b, cid, _ in accepted
                if rows.get(cid, (None, None))[1] != json_of(b)["submission_id"]]
        assert not lost, f"{len(lost)} submissions answered 202 but not stored"
        created = [json_of(b)["claim_id"] for _, _, _, b, _, _ in load.of("create", 201)]
        assert all(cid in rows for cid in created)
        assert "clpr stopped" in server.log_text()
        print(f"\nRELIABILITY fault sigterm: exit {took:.2f} s, {len(accepted)} submissions 202 all stored, "
              f"{len(load.of('submit', 503)) + len(load.of('create', 503))} answers 503, 20/20 streams ended cleanly")
    finally:
        server.stop()
        pg.close()
