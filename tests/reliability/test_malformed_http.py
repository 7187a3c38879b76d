"""Malformed HTTP against a real `clpr serve` (release binary): oversized heads, a body over the limit, slowloris,
2,000 half-open connections, invalid UTF-8 in JSON, 10,000-level nesting, numbers out of range.

For each attack the server must stay up, answer the attacker 4xx (or close the connection), and keep answering a
probe client (a signed-in `GET /api/v1/me` every 20 ms on its own connection) within a latency bound. Attacks run in
a child process so the probe's timings are not the attacker's GIL contention. Each test prints a `RELIABILITY` line
with the figures (the README's "Reliability: bad input" table). TEST_LONG=1: slowloris for 60 s (default 10 s) and
the half-open connections held for 30 s (default 5 s).
"""

import json
import multiprocessing
import os
import socket
import time

import pytest

from clpr_process import Clpr
from probe import Probe

LONG = os.environ.get("TEST_LONG") == "1"
SLOWLORIS_SECONDS = 60 if LONG else 10
HALF_OPEN_SECONDS = 30 if LONG else 5
BODY_LIMIT = 1024 * 1024
# The probe's bound while an attack runs. Unloaded, the probe's p50 is about 0.5 ms and p99 a few ms on the 2-core
# development machine; the bound leaves room for the machine being shared (builds of other work run meanwhile).
P50_BOUND, P99_BOUND = 0.025, 0.250


@pytest.fixture(scope="module")
def server():
    clpr = Clpr(env={"CLPR_MAX_BODY_BYTES": str(BODY_LIMIT), "CLPR_TELEGRAM_BOT_TOKEN": "1:reliability-token",
                     "CLPR_N8N_WEBHOOK_URL": "http://127.0.0.1:9/unused",
                     "CLPR_N8N_SECRET": "reliability-n8n-secret-0123456789"},
                database_url=os.environ.get("CLPR_TEST_DATABASE_URL"))
    try:
        sessions = clpr.seed_sessions(1)
        clpr.start()
        yield clpr, sessions[0]
    finally:
        clpr.cleanup()


def in_child(function, *args, timeout: float = 300):
    """Runs an attack in a forked process; returns what it returned."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply_async(function, args).get(timeout=timeout)


def under_attack(clpr: Clpr, cookie: str, name: str, function, *args):
    """Runs the attack with the probe going; checks the server is up and the probe's latency bound; returns the
    attack's result."""
    with Probe(clpr.port, cookie=cookie) as probe:
        time.sleep(0.3)
        result = in_child(function, *args)
        time.sleep(0.3)
    print(f"RELIABILITY {name}: probe {probe.summary()}; attack {json.dumps(result)}")
    assert clpr.alive(), clpr.log_text()[-4000:]
    assert not probe.failures, probe.failures[:5]
    assert probe.percentile(50) <= P50_BOUND, probe.summary()
    assert probe.percentile(99) <= P99_BOUND, probe.summary()
    return result


def read_response(sock: socket.socket, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Reads one HTTP/1.1 response (Content-Length framed, or until close). (0, {}, b"") when closed at once."""
    sock.settimeout(timeout)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        if not chunk:
            return (0, {}, raw) if not raw else parse_head(raw, b"")
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = parse_head(head, b"")[:2]
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def parse_head(head: bytes, body: bytes):
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return status, headers, body


def exchange(port: int, raw: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading everything: read what it said
        try:
            return read_response(s, timeout)
        except ConnectionResetError:
            return 0, {}, b""


def request_bytes(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


# MARK: - Attacks (run in the child)

def attack_oversized_heads(port: int, seconds: float) -> dict:
    statuses: dict[str, int] = {}
    bodies = set()
    cases = {
        "header 16 KiB": request_bytes("GET", "/healthz", headers={"X-Big": "a" * 16384}),
        "header 64 KiB": request_bytes("GET", "/healthz", headers={"X-Big": "a" * 65536}),
        "header 1 MiB": request_bytes("GET", "/healthz", headers={"X-Big": "a" * 1048576}),
        "2,000 headers": request_bytes("GET", "/healthz", headers={f"X-H{i}": "v" for i in range(2000)}),
        "cookie 32 KiB": request_bytes("GET", "/api/v1/me", headers={"Cookie": "clpr_session=" + "b" * 32768}),
        "path 64 KiB": request_bytes("GET", "/api/v1/claims/" + "c" * 65536),
    }
    end = time.monotonic() + seconds
    rounds = 0
    while time.monotonic() < end:
        rounds += 1
        for name, raw in cases.items():
            status, headers, body = exchange(port, raw)
            key = f"{name}: {status}"
            statuses[key] = statuses.get(key, 0) + 1
            bodies.add((status, headers.get("content-type", ""), body[:80].decode("latin-1")))
    return {"rounds": rounds, "statuses": statuses, "bodies": sorted(bodies)}


def attack_large_bodies(port: int, seconds: float) -> dict:
    results: dict[str, int] = {}
    answer_times, sent_before_close = [], []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        # Declared too large: answered from the head alone, before the body is sent (and before 100 Continue).
        for expect in (False, True):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                headers = {"Content-Type": "application/json", "Content-Length": str(BODY_LIMIT + 1)}
                if expect:
                    headers["Expect"] = "100-continue"
                head = ["POST /api/v1/auth/phone HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
                started = time.perf_counter()
                s.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
                status, h, body = read_response(s, 5)
                answer_times.append(time.perf_counter() - started)
                code = json.loads(body)["error"]["code"] if status == 413 else "?"
                key = f"Content-Length limit+1{' + Expect' if expect else ''}: {status} {code}"
                results[key] = results.get(key, 0) + 1
        # Chunked, growing past the limit: the connection is closed once the limit is passed.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /api/v1/auth/phone HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
            sent = 0
            try:
                while sent < 16 * BODY_LIMIT:
                    s.sendall(chunk)
                    sent += 65536
                outcome = "not closed"
            except (BrokenPipeError, ConnectionResetError):
                outcome = "closed"
            else:
                try:
                    outcome = "closed" if s.recv(1) == b"" else "answered"
                except ConnectionResetError:
                    outcome = "closed"
            sent_before_close.append(sent)
            key = f"chunked past the limit: {outcome}"
            results[key] = results.get(key, 0) + 1
    return {"results": results, "max_answer_ms": round(max(answer_times) * 1000, 1),
            "max_chunked_bytes_sent_before_close": max(sent_before_close)}


def attack_slowloris(port: int, connections: int, seconds: int) -> dict:
    socks = []
    for _ in range(connections):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        socks.append(s)
    dropped = 0
    for _ in range(seconds):
        time.sleep(1)
        for s in socks:
            try:
                s.sendall(b"a")
            except OSError:
                dropped += 1
    answered: dict[int, int] = {}
    for s in socks:
        try:
            s.sendall(b"\r\nConnection: close\r\n\r\n")
            status = read_response(s, 10)[0]
        except OSError:
            status = 0
        answered[status] = answered.get(status, 0) + 1
        s.close()
    return {"connections": connections, "seconds": seconds, "bytes_per_second_each": 1, "send_failures": dropped,
            "statuses_after": answered}


def attack_half_open(port: int, count: int, seconds: int) -> dict:
    socks, failed = [], 0
    started = time.monotonic()
    for i in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 2 == 0:
                s.sendall(b"POST /api/v1/auth/phone HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n")
            socks.append(s)
        except OSError:
            failed += 1
    opened_in = time.monotonic() - started
    time.sleep(seconds)
    # Still held by the server (not refused, not reset): a zero-timeout read finds nothing to read.
    still_open = 0
    for s in socks:
        s.setblocking(False)
        try:
            still_open += 1 if s.recv(1) else 0
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    return {"connections": count, "connect_failures": failed, "opened_in_s": round(opened_in, 2),
            "held_s": seconds, "still_open": still_open}


def nested(depth: int, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def attack_bad_json(port: int, cookie: str, rounds: int) -> dict:
    outcomes: dict[str, int] = {}
    json_routes = [("POST", "/api/v1/auth/phone"), ("POST", "/api/v1/auth/phone/verify"),
                   ("POST", "/api/v1/auth/telegram"), ("POST", "/api/v1/claims"), ("POST", "/api/v1/claims/wizard"),
                   ("PUT", "/api/v1/claims/00000000-0000-4000-8000-000000000000/draft"),
                   ("POST", "/api/v1/claim-plan/some-token")]
    bodies = {
        "invalid UTF-8": b'{"phone":"\xff\xfe\xc3\x28","type_code":"\xed\xa0\x80","answers":{"a":"\xc0\xaf"}}',
        "nested arrays x10000": nested(10000, "array"),
        "nested objects x10000": nested(10000, "object"),
        "nested in a field x10000": b'{"answers":' + nested(10000, "object") + b',"revision":1}',
    }
    for _ in range(rounds):
        for method, path in json_routes:
            for name, body in bodies.items():
                status, _, answer = exchange(port, request_bytes(method, path, body, {
                    "Content-Type": "application/json", "Cookie": cookie}))
                code = json.loads(answer)["error"]["code"] if answer.startswith(b"{") and status >= 400 else ""
                key = f"{name}: {status} {code}"
                outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes


def attack_numbers(port: int, cookie: str, claim_id: str) -> list:
    results = []
    for number in ("1e400", "-1e400", "99999999999999999999999", "-99999999999999999999999", "1.5", "1e2"):
        body = b'{"answers":{},"revision":' + number.encode() + b"}"
        status, _, answer = exchange(port, request_bytes("PUT", f"/api/v1/claims/{claim_id}/draft", body, {
            "Content-Type": "application/json", "Cookie": cookie}))
        results.append([number, status, json.loads(answer).get("error", {}) if answer.startswith(b"{") else None])
    return results


# MARK: - Tests

def idle(seconds: float) -> dict:
    time.sleep(seconds)
    return {"seconds": seconds}


def test_baseline_latency_without_an_attack(server):
    """The probe alone: what "normal latency" is on this machine (the figures the attacks are compared with)."""
    clpr, (_, cookie) = server
    under_attack(clpr, cookie, "baseline (no attack)", idle, 3)

def test_oversized_request_heads_are_refused(server):
    clpr, (_, cookie) = server
    result = under_attack(clpr, cookie, "oversized heads", attack_oversized_heads, clpr.port, 5)
    for key in result["statuses"]:
        name, status = key.rsplit(": ", 1)
        # 431 (head too large) or 414 (request line too long); libmicrohttpd may instead close the connection
        # when a head passes its buffer before it can answer (0).
        assert status in ("431", "414", "0"), key
    assert any(key.endswith(": 431") for key in result["statuses"]), result


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    clpr, (_, cookie) = server
    result = under_attack(clpr, cookie, "body over the limit", attack_large_bodies, clpr.port, 5)
    for key in result["results"]:
        assert key.endswith(": 413 payload_too_large") or key.endswith(": closed"), key
    # Refused from the head: no need to send the megabyte first.
    assert result["max_answer_ms"] < 1000
    # A chunked body is cut off after the limit (plus what the socket buffers hold), not read to the end.
    assert result["max_chunked_bytes_sent_before_close"] < 8 * BODY_LIMIT


def test_slowloris_does_not_slow_other_clients(server):
    clpr, (_, cookie) = server
    result = under_attack(clpr, cookie, "slowloris", attack_slowloris, clpr.port, 100, SLOWLORIS_SECONDS)
    # The slow clients were kept (libmicrohttpd's timeout counts idle time, and they never idle), and their
    # request is answered once complete.
    assert result["statuses_after"] == {200: 100}, result


def test_two_thousand_half_open_connections(server):
    clpr, (_, cookie) = server
    result = under_attack(clpr, cookie, "2,000 half-open connections", attack_half_open, clpr.port, 2000,
                          HALF_OPEN_SECONDS)
    assert result["connect_failures"] == 0, result
    assert result["still_open"] == 2000, result


def test_invalid_utf8_and_deep_nesting_are_400(server):
    clpr, (_, cookie) = server
    result = under_attack(clpr, cookie, "invalid UTF-8 and 10,000-level JSON", attack_bad_json, clpr.port, cookie, 5)
    for key in result:
        status = int(key.split(": ")[1].split()[0])
        assert 400 <= status < 500, key


def test_numbers_out_of_range_name_the_field(server):
    clpr, (token, cookie) = server
    claim_id = claim_of(clpr, cookie)
    result = under_attack(clpr, cookie, "numbers out of range", attack_numbers, clpr.port, cookie, claim_id)
    for number, status, error in result:
        if number in ("1e2",):
            continue  # 100: an integer in range (a stale revision, or accepted)
        assert status == 400, (number, status, error)
        assert error["code"] == "invalid_field" and error["field"] == "revision", (number, error)


def claim_of(clpr: Clpr, cookie: str) -> str:
    status, _, body = exchange(clpr.port, request_bytes("GET", "/api/v1/claims", headers={"Cookie": cookie}))
    assert status == 200, body
    return json.loads(body)["claims"][0]["claim_id"]
