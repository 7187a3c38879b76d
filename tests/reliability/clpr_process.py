"""Starting a real `clpr serve` (the release binary, as tests/deploy does) for the reliability suite."""

import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> str:
    return os.environ.get("CLPR_BINARY", str(ROOT / ".build/release/clpr"))


class Clpr:
    """One `clpr serve` on a free loopback port with its own data directory; stderr (the JSON log) goes to a file."""

    def __init__(self, env: dict[str, str] | None = None, database_url: str | None = None):
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="clpr-reliability-"))
        self.port = free_port()
        (self.work / "data").mkdir()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLPR_")},
            "CLPR_PORT": str(self.port),
            "CLPR_DATA_DIR": str(self.work / "data"),
            "CLPR_WEB_DIR": str(ROOT / "web"),
            "CLPR_PLANNER_DELAY_MS": "50",
            **({"CLPR_DATABASE_URL": database_url} if database_url else {}),
            **(env or {}),
        }
        self.log = self.work / "clpr.log"
        self.process: subprocess.Popen | None = None

    def seed_sessions(self, count: int) -> list[tuple[str, str]]:
        """`count` people, each signed in with one submitted claim: [(session_token, "clpr_session=…")]."""
        tokens = self.work / f"tokens-{time.monotonic_ns()}"
        seeded = subprocess.run([binary(), "bench-seed", "--count", str(count), "--tokens-file", str(tokens)],
                                env=self.env, capture_output=True, text=True, timeout=120)
        assert seeded.returncode == 0, seeded.stderr
        return [tuple(line.split("\t")) for line in tokens.read_text().splitlines()]

    def start(self) -> "Clpr":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([binary(), "serve"], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.process.poll() is None, "clpr exited at start: " + self.log_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("clpr did not start: " + self.log_text())

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)
