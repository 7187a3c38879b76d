"""Fixtures for the real-browser suite: a clpr server on a free loopback port and a headless Chromium."""

import os
import pathlib
import re
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODE_LINE = re.compile(r"one-time code for [^:]+: (\d{6})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `clpr serve` with its own data directory and captured log."""

    def __init__(self, **env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = tempfile.mkdtemp(prefix="clpr-browser-")
        self.log_path = pathlib.Path(self.data) / "server.log"
        binary = os.environ.get("CLPR_BINARY", str(ROOT / ".build/release/clpr"))
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLPR_")},
            "CLPR_PORT": str(self.port),
            "CLPR_DATA_DIR": self.data,
            "CLPR_WEB_DIR": str(ROOT / "web"),
            "CLPR_OTP_RESEND_S": "1",
            "CLPR_OTP_LIMIT_PER_ADDRESS": "1000",
            **env,
        }
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([binary, "serve"], env=environment, stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("clpr did not start: " + self.log_path.read_text())

    def latest_code(self, timeout=10) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            codes = CODE_LINE.findall(self.log_path.read_text(encoding="utf-8"))
            if codes:
                return codes[-1]
            time.sleep(0.1)
        raise AssertionError("no one-time code in the server log")

    def codes_seen(self) -> int:
        return len(CODE_LINE.findall(self.log_path.read_text(encoding="utf-8")))

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        finally:
            self.log.close()


@pytest.fixture
def server_factory():
    servers = []

    def make(**env):
        server = Server(**env)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request):
    """The server's store: the embedded SQLite default, or a fresh PostgreSQL database on the cluster that `./test`
    starts (CLPR_TEST_DATABASE_URL, an admin URL). Returns the environment to give `server_factory`.

    Without CLPR_TEST_DATABASE_URL the PostgreSQL case is skipped, except inside `./test` (CLPR_TEST_SUITE=1),
    where it fails."""
    if request.param == "sqlite":
        yield {}
        return
    admin = os.environ.get("CLPR_TEST_DATABASE_URL")
    if not admin:
        if os.environ.get("CLPR_TEST_SUITE") == "1":
            pytest.fail("CLPR_TEST_DATABASE_URL is not set: ./test starts a PostgreSQL cluster for this")
        pytest.skip("set CLPR_TEST_DATABASE_URL to run the flow on PostgreSQL")
    name = "clpr_browser_" + uuid.uuid4().hex
    base, _, query = admin.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", admin, "-c", f"CREATE DATABASE {name}"], check=True)
    yield {"CLPR_DATABASE_URL": url}
    subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--lang=ru-RU",
    ):
        options.add_argument(arg)
    # A Russian-speaking person's browser: headless Chromium ignores --lang for Accept-Language and
    # navigator.languages (en-US), and the app follows those (English for English-preferring browsers).
    options.add_experimental_option("prefs", {"intl.accept_languages": "ru-RU,ru"})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1280, 900)
    yield driver
    driver.quit()
