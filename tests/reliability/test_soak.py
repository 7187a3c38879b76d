"""The soak (tests/reliability/soak.py) as a step of ./test: 75 s of mixed traffic by default, 30 minutes with
TEST_LONG=1, on PostgreSQL (a fresh database on ./test's cluster, CLPR_TEST_DATABASE_URL) and Redis
(CLPR_TEST_REDIS_URL) when they are given, else on SQLite and the in-process bus.

It asserts what an operator relies on: no 5xx and no failed visit (every plan arrived), the descriptors back to
where they were once the traffic stops, and RSS and descriptor slopes within bounds. The short run's RSS bound is
loose (allocator and cache warm-up still show in 60 s); the long run's is the one that finds a leak.
"""

import json
import os
import subprocess
import time

import soak

LONG = os.environ.get("TEST_LONG") == "1"


def fresh_database(admin_url: str) -> str:
    name = f"clpr_soak_{int(time.time())}_{os.getpid()}"
    subprocess.run(["psql", admin_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def test_soak():
    admin = os.environ.get("CLPR_TEST_DATABASE_URL")
    report = soak.run(
        duration=1800 if LONG else 75, visits_per_s=2.0, sample_every=10 if LONG else 5,
        warmup=120 if LONG else 20,
        database_url=fresh_database(admin) if admin else None, redis_url=os.environ.get("CLPR_TEST_REDIS_URL"))
    print("\nRELIABILITY soak " + json.dumps({k: v for k, v in report.items() if k != "by_kind"}, ensure_ascii=False))
    assert report["5xx"] == 0 and report["server_5xx_metric"] == 0, report["server_errors"]
    assert report["failures"] == 0, report["failure_examples"]
    assert report["visits"] >= (3000 if LONG else 120)
    assert report["fds"]["after"] <= report["fds"]["before"] + 2, report["fds"]
    assert abs(report["fd_slope_per_min"]) < (1 if LONG else 10), report["fd_slope_per_min"]
    assert report["rss_slope_kb_per_min"] < (100 if LONG else 2048), report["rss_slope_kb_per_min"]
