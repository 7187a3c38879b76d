#!/usr/bin/env python3
"""A soak of `clpr serve`: mixed traffic at a steady rate, with the server's RSS and open file descriptors
sampled every few seconds.

One *visit* is what one person does: log in with a new number (code from the SMS webhook, received here),
create a draft, save it a few times, list drafts, submit, wait for the plan on the stream, confirm, upload a
document (a small PNG of new bytes) into the plan's first slot, list claims. Visits start at a fixed rate
(--visits-per-s) whatever the server's speed, on a pool of worker threads.

A burst of 16 concurrent visits comes first (it opens the database pool and the Redis command connection), then
the baseline RSS and fd count are read. At the end the RSS and fd samples taken after a warm-up are fitted by least
squares (slope per minute), and the fd count after the traffic stops is compared with the baseline. Prints one JSON report; exit status
1 if any request answered 5xx, failed at the socket, or a plan never arrived.

Usage (its own PostgreSQL and Redis, as ./test does; without --database-url the server runs on SQLite):
    tests/reliability/soak.py --binary .build/release/clpr --duration 1800 \
        --database-url "$(scripts/postgres.sh start /tmp/soak-pg)" --redis-url "$(scripts/redis.sh start /tmp/soak-redis)"
"""

import argparse
import collections
import json
import os
import pathlib
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402


def slope_per_minute(samples):
    """Least-squares slope of (seconds, value) pairs, per minute."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / var * 60


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_kind = collections.Counter()  # "login 200"
        self.server_errors = []  # (kind, status, body) of every 5xx
        self.failures = []  # socket errors, plans that never came, unexpected answers
        self.visits = 0
        self.plans = 0

    def count(self, kind, status, body=b""):
        with self.lock:
            self.by_kind[f"{kind} {status}"] += 1
            if status >= 500:
                self.server_errors.append((kind, status, body[:300].decode("utf-8", "replace")))

    def fail(self, what):
        with self.lock:
            self.failures.append(what)

    def requests(self):
        with self.lock:
            return sum(self.by_kind.values())


def upload_documents(port, cookie, claim_id, tally):
    """After the confirmation: one small PNG (new bytes every time, so every upload stores a blob) into the first
    slot the plan asks for, then the documents list."""
    status, _, payload = harness.request(port, "GET", f"/api/v1/claims/{claim_id}/documents", cookie=cookie,
                                         timeout=30)
    tally.count("documents", status, payload)
    slots = (harness.json_of(payload) or {}).get("slots") or []
    if status != 200 or not slots:
        raise RuntimeError(f"documents: {status} {payload[:200]!r}")
    boundary = "soak" + os.urandom(8).hex()
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2048)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"field_name\"\r\n\r\n{slots[0]['code']}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
    status, _, payload = harness.request(
        port, "POST", f"/api/v1/claims/{claim_id}/documents", body, cookie=cookie, timeout=30,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    tally.count("upload", status, payload)
    if status != 201:
        raise RuntimeError(f"upload: {status} {payload[:200]!r}")


def visit(port, inbox, phone, tally, plan_timeout):
    def call(kind, method, path, body=None, cookie=None, expect=(200,)):
        status, _, payload = harness.request(port, method, path, body, cookie=cookie, timeout=30)
        tally.count(kind, status, payload)
        if status not in expect:
            raise RuntimeError(f"{kind}: {status} {payload[:200]!r}")
        return harness.json_of(payload)

    try:
        cookie, statuses = harness.login(port, inbox, phone)
        for kind, status in zip(("login_code", "login_verify"), statuses):
            tally.count(kind, status)
        if not cookie:
            raise RuntimeError(f"login: {statuses}")
        type_code = random.choice(list(harness.ANSWERS))
        answers = harness.ANSWERS[type_code]
        claim = call("draft_create", "POST", "/api/v1/claims", {"type_code": type_code}, cookie, (201,))
        revision = claim["revision"]
        keys = list(answers)
        for step in range(1, 4):  # the wizard autosaves as the person answers
            partial = {k: answers[k] for k in keys[: len(keys) * step // 3]}
            revision = call("draft_save", "PUT", f"/api/v1/claims/{claim['claim_id']}/draft",
                            {"answers": partial, "revision": revision}, cookie)["revision"]
        call("drafts", "GET", "/api/v1/claims/drafts", cookie=cookie)
        submitted = call("submit", "POST", "/api/v1/claims/wizard",
                         {"claim_id": claim["claim_id"], "answers": answers, "revision": revision}, cookie, (202,))
        stream = harness.Stream(port, submitted["session_token"], cookie, timeout=plan_timeout)
        stream.wait(plan_timeout + 5)
        tally.count("stream", stream.status or 0)
        plan = stream.plan()
        if not plan or plan.get("submission_id") != submitted["submission_id"] or stream.ended != "eof":
            raise RuntimeError(f"stream: status {stream.status}, events {stream.names()}, ended {stream.ended}")
        with tally.lock:
            tally.plans += 1
        call("confirm", "POST", f"/api/v1/claims/{claim['claim_id']}/confirm",
             {"submission_id": submitted["submission_id"]}, cookie)
        upload_documents(port, cookie, claim["claim_id"], tally)
        call("claims", "GET", "/api/v1/claims", cookie=cookie)
    except Exception as error:  # noqa: BLE001  (every failure is reported, none stops the soak)
        tally.fail(f"{phone}: {error}")
    finally:
        with tally.lock:
            tally.visits += 1


def run(binary=None, duration=60.0, visits_per_s=2.0, sample_every=5.0, warmup=15.0, database_url=None,
        redis_url=None, workers=48, planner_delay_ms=800, log=None):
    """Starts a server, runs the soak, stops the server; returns the report (a dict)."""
    if binary:
        os.environ["CLPR_BINARY"] = binary
    inbox = harness.CodeInbox()
    env = {
        "CLPR_SMS_WEBHOOK_URL": inbox.url,
        "CLPR_SMS_WEBHOOK_SECRET": harness.SMS_SECRET,
        "CLPR_OTP_LIMIT_PER_ADDRESS": "100000",
        "CLPR_PLANNER_DELAY_MS": str(planner_delay_ms),
        "CLPR_HTTP_THREADS": "4",
    }
    if database_url:
        env["CLPR_DATABASE_URL"] = database_url
    if redis_url:
        env["CLPR_REDIS_URL"] = redis_url
    server = harness.Clpr(env).start()
    tally = Tally()
    samples = []  # (t, rss_kb, fds)
    started = time.monotonic()
    run_id = random.randrange(10**4)
    # A burst of concurrent visits first opens what the server opens once (the database pool's connections, the
    # Redis command connection), so that "before" counts them like "after" does.
    with ThreadPoolExecutor(max_workers=16) as burst:
        for n in range(16):
            burst.submit(visit, server.port, inbox, f"+79{run_id:04d}{99900 + n:05d}", tally, 30)
    time.sleep(2)
    fds_before = server.open_fds()
    rss_before = server.rss_kb()
    stop = threading.Event()

    def sampler():
        while not stop.wait(sample_every):
            t = time.monotonic() - started
            status, _, payload = harness.request(server.port, "GET", "/metrics")  # as Prometheus would
            tally.count("metrics", status, payload)
            samples.append((t, server.rss_kb(), server.open_fds()))
            if log:
                print(json.dumps({"t": round(t), "rss_kb": samples[-1][1], "fds": samples[-1][2],
                                  "requests": tally.requests(), "visits": tally.visits, "5xx": len(tally.server_errors),
                                  "failures": len(tally.failures)}), file=log, flush=True)

    threading.Thread(target=sampler, daemon=True).start()
    pool = ThreadPoolExecutor(max_workers=workers)
    n = 0
    load_start = time.monotonic()
    while time.monotonic() - load_start < duration:
        # +7 9RR RNN NNNN: a run prefix and a counter, so every visit logs in with a number of its own.
        phone = f"+79{run_id:04d}{n % 99900:05d}"
        pool.submit(visit, server.port, inbox, phone, tally, 30)
        n += 1
        next_at = load_start + n / visits_per_s
        time.sleep(max(0.0, next_at - time.monotonic()))
    pool.shutdown(wait=True)
    load_seconds = time.monotonic() - load_start
    stop.set()
    time.sleep(2)  # closed connections and ended streams settle
    fds_after = server.open_fds()
    rss_after = server.rss_kb()
    metrics = server.metrics()
    server.stop()
    inbox.close()

    steady = [s for s in samples if s[0] >= warmup] or samples
    report = {
        "duration_s": round(load_seconds, 1),
        "visits": tally.visits,
        "visits_per_s": visits_per_s,
        "requests": tally.requests(),
        "requests_per_s": round(tally.requests() / load_seconds, 1),
        "plans_delivered": tally.plans,
        "by_kind": dict(sorted(tally.by_kind.items())),
        "5xx": len(tally.server_errors),
        "server_errors": tally.server_errors[:10],
        "failures": len(tally.failures),
        "failure_examples": tally.failures[:10],
        "rss_kb": {"before": rss_before, "after": rss_after, "max": max((s[1] for s in samples), default=0)},
        "rss_slope_kb_per_min": round(slope_per_minute([(t, r) for t, r, _ in steady]), 1),
        "fds": {"before": fds_before, "after": fds_after, "max": max((s[2] for s in samples), default=0)},
        "fd_slope_per_min": round(slope_per_minute([(t, f) for t, _, f in steady]), 2),
        "samples": len(samples),
        "warmup_s": warmup,
        "database": "postgresql" if database_url else "sqlite",
        "plan_bus": "redis" if redis_url else "in-process",
        "server_5xx_metric": sum(v for k, v in metrics.items()
                                 if k.startswith("clpr_http_requests_total") and 'status="5' in k),
    }
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", help="clpr executable (default: CLPR_BINARY or .build/release/clpr)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of traffic")
    parser.add_argument("--visits-per-s", type=float, default=2.0)
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds between RSS/fd samples")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds left out of the slopes")
    parser.add_argument("--database-url", help="PostgreSQL (default: SQLite in a temporary directory)")
    parser.add_argument("--redis-url", help="Redis plan bus (default: in-process)")
    parser.add_argument("--report", help="also write the JSON report to this file")
    args = parser.parse_args()
    report = run(args.binary, args.duration, args.visits_per_s, args.sample_every, args.warmup, args.database_url,
                 args.redis_url, log=sys.stderr)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.report:
        pathlib.Path(args.report).write_text(text + "\n")
    return 0 if report["5xx"] == 0 and report["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
