"""deploy/nginx.conf, the shipped file, in front of a real `clpr serve`.

Debian's nginx runs as this test's own process on a free port. Its main config mimics a stock nginx.conf at its
most hostile for streams (gzip on for text/event-stream) and ignores clpr's own `X-Accel-Buffering: no`, so the
plan stream is unbuffered only if deploy/nginx.conf makes it so. Only two lines of the shipped file are replaced:
the upstream address and the listen line.
"""

import hashlib
import hmac
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx.conf"
SECRET = "deploy-test-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, what: str, log: pathlib.Path, timeout: float = 20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start: " + log.read_text(errors="replace"))


def substitute_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx.conf should contain {old!r} exactly once"
    return text.replace(old, new)


@pytest.fixture(scope="module")
def stack():
    work = pathlib.Path(tempfile.mkdtemp(prefix="clpr-deploy-"))
    binary = os.environ.get("CLPR_BINARY", str(ROOT / ".build/release/clpr"))
    clpr_port, nginx_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLPR_")},
        "CLPR_PORT": str(clpr_port),
        "CLPR_DATA_DIR": str(work / "data"),
        "CLPR_WEB_DIR": str(ROOT / "web"),
        "CLPR_PLANNER": "none",  # the plan comes from the signed callback below, through nginx
        "CLPR_N8N_WEBHOOK_URL": "http://127.0.0.1:9/unused",  # enables the callback; the submission call fails, harmless
        "CLPR_N8N_SECRET": SECRET,
        "CLPR_TRUST_FORWARDED_FOR": "1",
        "CLPR_OTP_LIMIT_PER_ADDRESS": "1",
        "CLPR_SSE_HEARTBEAT_S": "1",
    }
    (work / "data").mkdir()
    seeded = subprocess.run(
        [binary, "bench-seed", "--count", "1", "--tokens-file", str(work / "tokens")],
        env=env, capture_output=True, text=True, timeout=60)
    assert seeded.returncode == 0, seeded.stderr
    token, cookie = (work / "tokens").read_text().splitlines()[0].split("\t")

    clpr_log = work / "clpr.log"
    with open(clpr_log, "wb") as log:
        clpr = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    processes = [clpr]
    try:
        wait_http(f"http://127.0.0.1:{clpr_port}/healthz", "clpr", clpr_log)

        site = SHIPPED.read_text()
        site = substitute_once(site, "server 127.0.0.1:8080;", f"server 127.0.0.1:{clpr_port};")
        site = substitute_once(site, "listen 80;", f"listen 127.0.0.1:{nginx_port};")
        (work / "clpr-site.conf").write_text(site)
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (work / d).mkdir()
        user = "user root;\n" if os.geteuid() == 0 else ""
        (work / "nginx.conf").write_text(f"""{user}worker_processes 1;
error_log {work}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {work}/access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    # Hostile defaults: compress event streams, and ignore clpr's own X-Accel-Buffering: no, so only the
    # shipped file's directives keep the stream unbuffered.
    gzip on;
    gzip_min_length 1;
    gzip_types text/event-stream application/json;
    proxy_ignore_headers X-Accel-Buffering;
    include {work}/clpr-site.conf;
}}
""")
        nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
        test = subprocess.run([nginx_bin, "-t", "-e", f"{work}/error.log", "-p", str(work), "-c", str(work / "nginx.conf"),
                               "-g", f"daemon off; pid {work}/nginx.pid;"], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        nginx_log = work / "nginx.out"
        with open(nginx_log, "wb") as log:
            nginx = subprocess.Popen(
                [nginx_bin, "-e", f"{work}/error.log", "-p", str(work), "-c", str(work / "nginx.conf"),
                 "-g", f"daemon off; pid {work}/nginx.pid;"], stdout=log, stderr=log)
        processes.append(nginx)
        wait_http(f"http://127.0.0.1:{nginx_port}/healthz", "nginx", work / "error.log")
        yield {"nginx_port": nginx_port, "clpr_port": clpr_port, "token": token, "cookie": cookie, "work": work}
    finally:
        for p in reversed(processes):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


def request(port, method, path, body=None, headers=None, source="127.0.0.1"):
    """One HTTP/1.1 request from a chosen loopback source address; returns (status, headers, body)."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b"")
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as s:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
                f"Content-Length: {len(data)}"]
        if data:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    lines = header_block.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    parsed = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    if parsed.get("transfer-encoding") == "chunked":
        out, rest = b"", payload
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        payload = out
    return status, parsed, payload


def read_until(sock, buffer: bytearray, needle: bytes, timeout: float) -> float:
    """Reads the stream until `needle` appears; returns the seconds it took. Fails after `timeout`."""
    start = time.monotonic()
    while needle not in buffer:
        left = timeout - (time.monotonic() - start)
        if left <= 0:
            raise AssertionError(f"{needle!r} did not arrive within {timeout} s; got {bytes(buffer)!r}")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            raise AssertionError(f"stream closed before {needle!r}; got {bytes(buffer)!r}")
        buffer += chunk
    return time.monotonic() - start


def test_plan_stream_is_unbuffered_through_nginx(stack):
    port, token, cookie = stack["nginx_port"], stack["token"], stack["cookie"]
    status, _, body = request(port, "GET", "/api/v1/claims", headers={"Cookie": cookie})
    assert status == 200, body
    claim = next(c for c in json.loads(body)["claims"] if c["session_token"] == token)

    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall((f"GET /api/v1/claim-plan/{token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                   f"Cookie: {cookie}\r\nAccept: text/event-stream\r\nAccept-Encoding: gzip\r\n"
                   "Connection: close\r\n\r\n").encode())
        seen = bytearray()
        read_until(s, seen, b"\r\n\r\n", 2)
        head = bytes(seen).split(b"\r\n\r\n")[0].decode("latin-1").lower()
        assert head.startswith("http/1.1 200"), head
        assert "content-type: text/event-stream" in head, head
        assert "content-encoding" not in head, "nginx compressed the event stream: " + head
        # The retry: line is written at once, before anything is published: it arrives only if nginx passes
        # bytes through as clpr writes them (buffered, it would wait for the buffer to fill or the stream to end).
        retry_s = read_until(s, seen, b"retry:", 2)
        hb_s = read_until(s, seen, b": hb", 3)  # CLPR_SSE_HEARTBEAT_S=1
        assert b"claim_plan_ready" not in seen

        plan = {
            "version": 1, "session_token": token, "claim_id": claim["claim_id"],
            "submission_id": claim["submission_id"], "type_code": claim["type_code"],
            "title": "Заявление (тест deploy)", "summary": "Проверка прокси.",
            "fields": [{"key": "k", "label": "Поле", "value": "значение"}],
            "required_documents": [{"code": "passport", "title": "Паспорт", "required": True}],
            "next_steps": ["Проверьте заявление"], "source": "n8n",
        }
        raw = json.dumps(plan, ensure_ascii=False).encode()
        ts = str(int(time.time()))
        signature = hmac.new(SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        published = time.monotonic()
        status, _, answer = request(port, "POST", f"/api/v1/claim-plan/{token}", raw,
                                    {"X-Clpr-Timestamp": ts, "X-Clpr-Signature": signature})
        assert status == 200 and json.loads(answer)["status"] == "stored", answer
        read_until(s, seen, b"event: claim_plan_ready", 1)
        ready_s = time.monotonic() - published
    print(f"\nthrough nginx: retry: after {retry_s * 1000:.0f} ms, first heartbeat after {hb_s * 1000:.0f} ms, "
          f"claim_plan_ready {ready_s * 1000:.0f} ms after the callback was sent")


def test_client_address_reaches_clpr(stack):
    """CLPR_OTP_LIMIT_PER_ADDRESS=1: one code per client address. Every request reaches clpr from nginx's
    127.0.0.1, so a second address getting its code shows the address nginx appended was the one clpr counted;
    a forged X-Forwarded-For from the client does not dodge the limit."""
    port = stack["nginx_port"]
    first = request(port, "POST", "/api/v1/auth/phone", {"phone": "+79161110001"}, source="127.0.0.3")
    assert first[0] == 200, first
    other = request(port, "POST", "/api/v1/auth/phone", {"phone": "+79161110002"}, source="127.0.0.4")
    assert other[0] == 200, other
    again = request(port, "POST", "/api/v1/auth/phone", {"phone": "+79161110003"}, source="127.0.0.3",
                    headers={"X-Forwarded-For": "203.0.113.77"})
    assert again[0] == 429 and b"too_many_codes" in again[2], again


def test_body_limit_matches_clpr(stack):
    """nginx refuses what clpr would refuse (CLPR_MAX_BODY_BYTES, 1 MiB) and passes what clpr accepts."""
    port = stack["nginx_port"]
    status, headers, body = request(port, "POST", "/api/v1/auth/phone", b"x" * (1024 * 1024 + 1))
    assert status == 413 and "text/html" in headers.get("content-type", ""), (status, headers)  # nginx's own page
    status, headers, body = request(port, "POST", "/api/v1/auth/phone", b"x" * (1024 * 1024))
    assert status == 400 and "application/json" in headers.get("content-type", ""), (status, body[:200])  # clpr's
