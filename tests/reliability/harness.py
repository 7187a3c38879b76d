"""Shared pieces of the fault tests and the soak: a real `clpr serve` process, throwaway PostgreSQL and Redis
instances of their own (scripts/postgres.sh, scripts/redis.sh) that a test may stop and start again without
touching the ones ./test started, a plain HTTP client, an SSE reader and a receiver for login codes.
Standard library only.
"""

import atexit
import http.client
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMS_SECRET = "reliability-sms-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> str:
    return os.environ.get("CLPR_BINARY", str(ROOT / ".build/release/clpr"))


# MARK: - Services


class Postgres:
    """A throwaway cluster on a fixed port, so that it can be stopped and started again at the same address."""

    def __init__(self, durable=False):
        """`durable`: commits reach the WAL before they are acknowledged (synchronous_commit on), so they survive
        an `immediate` stop (a crash) as they would in production."""
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="clpr-rel-pg-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.env = {**os.environ, "PG_EXTRA_OPTIONS": "-c synchronous_commit=on" if durable else ""}
        self.url = subprocess.run(
            [str(ROOT / "scripts/postgres.sh"), "start", str(self.dir), str(self.port)],
            check=True, capture_output=True, text=True, env=self.env).stdout.strip()

    def stop(self, mode="fast"):
        """`fast`: a clean stop (sessions ended, committed work kept); `immediate`: a crash. The test cluster runs
        with synchronous_commit off, so after a crash the last commits may be gone by design."""
        subprocess.run([str(ROOT / "scripts/postgres.sh"), "stop", str(self.dir), mode], check=True)

    def start(self):
        subprocess.run([str(ROOT / "scripts/postgres.sh"), "start", str(self.dir), str(self.port)],
                       check=True, capture_output=True, text=True, env=self.env)

    def sql(self, query: str) -> list:
        """Rows of `query` (psql, tab-separated), read as the admin user."""
        out = subprocess.run(["psql", self.url, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def close(self):
        self.stop("immediate")
        subprocess.run(["rm", "-rf", str(self.dir)])


class Redis:
    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="clpr-rel-redis-"))
        self.port = free_port()
        self.url = self.start()

    def start(self) -> str:
        return subprocess.run([str(ROOT / "scripts/redis.sh"), "start", str(self.dir), str(self.port)],
                              check=True, capture_output=True, text=True).stdout.strip()

    def stop(self):
        subprocess.run([str(ROOT / "scripts/redis.sh"), "stop", str(self.dir)], check=True)

    def close(self):
        self.stop()
        subprocess.run(["rm", "-rf", str(self.dir)])


class CodeInbox:
    """Receives clpr's SMS webhook (`CLPR_SMS_WEBHOOK_URL`) and hands out the login code sent to a phone."""

    def __init__(self):
        self.codes = {}
        self.cond = threading.Condition()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with inbox.cond:
                    inbox.codes[body["phone"]] = body["code"]
                    inbox.cond.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def code(self, phone: str, timeout: float = 10) -> str:
        with self.cond:
            if not self.cond.wait_for(lambda: phone in self.codes, timeout):
                raise TimeoutError(f"no code for {phone}")
            return self.codes.pop(phone)

    def close(self):
        self.server.shutdown()


# MARK: - The server


class Clpr:
    """`clpr serve` as a child process; its log goes to a file next to its data."""

    def __init__(self, env: dict, work: pathlib.Path = None):
        self.work = work or pathlib.Path(tempfile.mkdtemp(prefix="clpr-rel-"))
        # Kept until the test process ends (a test reads the log after the server stopped), then removed.
        atexit.register(shutil.rmtree, self.work, True)
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLPR_")},
            "CLPR_PORT": str(self.port),
            "CLPR_DATA_DIR": str(self.work / "data"),
            "CLPR_WEB_DIR": str(ROOT / "web"),
            "CLPR_LOG_LEVEL": "notice",
            **env,
        }
        self.log_path = self.work / "clpr.log"
        self.process = None

    def run(self, *args, timeout=120) -> str:
        done = subprocess.run([binary(), *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def seed_people(self, count: int) -> list:
        """`count` signed-in people: (phone, cookie) pairs, via `clpr bench-seed --people`."""
        path = self.work / "people"
        self.run("bench-seed", "--people", str(count), "--people-file", str(path))
        return [tuple(line.split("\t")) for line in path.read_text().splitlines()]

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen([binary(), "serve"], env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.process.poll() is None, "clpr exited at start:\n" + self.log_text()
            try:
                if request(self.port, "GET", "/healthz", timeout=1)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("clpr did not start:\n" + self.log_text())

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss_kb(self) -> int:
        for line in pathlib.Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def metrics(self) -> dict:
        """`/metrics` as {"name{labels}": value}."""
        status, _, body = request(self.port, "GET", "/metrics")
        assert status == 200
        values = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                values[key] = float(value)
        return values

    def stop(self, timeout=15) -> float:
        """SIGTERM, then wait; returns how long the exit took."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        return time.monotonic() - started


# MARK: - HTTP


def request(port, method, path, body=None, cookie=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers (lower-case names), body bytes). `body`: JSON-encoded,
    unless it is bytes (sent as is; give the Content-Type in `headers`)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = None
        all_headers = dict(headers or {})
        if isinstance(body, bytes):
            data = body
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            all_headers["Content-Type"] = "application/json"
        if cookie:
            all_headers["Cookie"] = cookie
        conn.request(method, path, body=data, headers=all_headers)
        response = conn.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        conn.close()


def json_of(payload: bytes):
    try:
        return json.loads(payload)
    except ValueError:
        return None


def login(port, inbox: CodeInbox, phone: str):
    """The web login (code by SMS webhook): returns (cookie, statuses of both requests)."""
    s1, _, b1 = request(port, "POST", "/api/v1/auth/phone", {"phone": phone})
    if s1 != 200:
        return None, [s1]
    normalized = json_of(b1)["phone"]
    code = inbox.code(normalized)
    s2, h2, _ = request(port, "POST", "/api/v1/auth/phone/verify", {"phone": phone, "code": code})
    cookie = None
    for part in h2.get("set-cookie", "").split(","):
        pair = part.split(";")[0].strip()
        if pair.startswith("clpr_session=") and len(pair) > len("clpr_session="):
            cookie = pair
    return cookie, [s1, s2]


ANSWERS = {
    "travel": {
        "policy_number": "ВЗР-123456789", "event_kind": "medical", "trip_country": "Турция",
        "trip_start": "2025-07-01", "event_date": "2025-07-03", "description": "Травма ноги на пляже",
        "expenses": "12345.67", "contacted_assistance": "yes",
    },
    "property": {
        "policy_number": "ИМ-2026-000123", "damage_kind": "flood", "event_date": "2025-10-05",
        "address": "Москва, ул. Тверская, д. 1, кв. 2", "description": "Залив с верхнего этажа",
        "estimated_damage": "50000", "authorities_notified": "no",
    },
    "osago": {
        "policy_number": "ХХХ 0123456789", "event_date": "2025-09-01", "event_place": "Москва, Ленинский пр., 10",
        "vehicle_plate": "А123ВС777", "registration": "europrotocol", "injuries": "no",
        "description": "Столкновение при перестроении",
    },
}


class Stream:
    """A claim-plan stream (`GET /api/v1/claim-plan/{token}`) read on a thread of its own: the events it got and
    how it ended (`eof`: the server closed it after its last event)."""

    def __init__(self, port, token, cookie, timeout=120):
        self.events = []
        self.status = None
        self.ended = None  # "eof" | "reset" | "timeout" | an error text
        self.opened = threading.Event()
        self.done = threading.Event()
        self.sock = None
        self.thread = threading.Thread(target=self._run, args=(port, token, cookie, timeout), daemon=True)
        self.thread.start()

    def _run(self, port, token, cookie, timeout):
        try:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
            self.sock.sendall((f"GET /api/v1/claim-plan/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n").encode())
            reader = self.sock.makefile("rb")
            status_line = reader.readline()
            self.status = int(status_line.split()[1]) if status_line else None
            chunked = False
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
                    chunked = True
            self.opened.set()
            buffer = b""
            event = {}
            while True:
                if chunked:
                    size_line = reader.readline()
                    if not size_line:
                        self.ended = "reset"
                        return
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.ended = "eof"
                        return
                    buffer += reader.read(size)
                    reader.readline()
                else:
                    chunk = reader.read1(65536)
                    if not chunk:
                        self.ended = "eof"
                        return
                    buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    text = raw.decode("utf-8", "replace").rstrip("\r")
                    if text == "":
                        if event:
                            self.events.append(event)
                            event = {}
                    elif text.startswith(":"):
                        continue
                    else:
                        name, _, value = text.partition(":")
                        event[name] = event.get(name, "") + value.lstrip(" ")
        except socket.timeout:
            self.ended = "timeout"
        except OSError as error:
            self.ended = f"reset: {error}"
        finally:
            self.opened.set()
            self.done.set()
            if self.sock:
                self.sock.close()

    def names(self):
        return [e.get("event") for e in self.events if "event" in e]

    def plan(self):
        for e in self.events:
            if e.get("event") == "claim_plan_ready":
                return json.loads(e["data"])
        return None

    def wait(self, timeout):
        return self.done.wait(timeout)
