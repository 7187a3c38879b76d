#!/usr/bin/env python3
"""Opens N idle claim-plan streams against a clpr server and reports what they cost it.

Each line of the tokens file (`clpr bench-seed`) is `TOKEN<TAB>COOKIE` for one submitted claim that has no plan
yet, so every stream passes the owner check and then waits. Prints one JSON object: streams opened, open time,
server RSS before/after, RSS per stream, server CPU while idle. Loopback only; every wait is bounded.
"""

import argparse
import asyncio
import json
import os
import time


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def open_stream(host, port, token, cookie, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    request = (
        f"GET /api/v1/claim-plan/{token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Accept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        writer.close()
        raise RuntimeError(f"http_{status}")
    first = await asyncio.wait_for(reader.readuntil(b"\n\n"), timeout)  # the chunked `retry:` line
    if b"retry:" not in first:
        raise RuntimeError("no retry line")
    return reader, writer


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--tokens-file", required=True)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--idle-s", type=float, default=10)
    parser.add_argument("--timeout-s", type=float, default=30)
    args = parser.parse_args()
    host = "127.0.0.1"
    lines = [l.rstrip("\n").split("\t") for l in open(args.tokens_file) if l.strip()][: args.n]

    rss_before = rss_kb(args.pid)
    semaphore = asyncio.Semaphore(args.concurrency)
    errors = {}

    async def one(token, cookie):
        async with semaphore:
            try:
                return await open_stream(host, args.port, token, cookie, args.timeout_s)
            except Exception as error:  # noqa: BLE001 - counted and reported
                key = str(error) or type(error).__name__
                errors[key] = errors.get(key, 0) + 1
                return None

    started = time.monotonic()
    streams = [s for s in await asyncio.gather(*(one(t, c) for t, c in lines)) if s is not None]
    open_time = time.monotonic() - started
    await asyncio.sleep(2)
    rss_open = rss_kb(args.pid)
    cpu_start = cpu_seconds(args.pid)
    await asyncio.sleep(args.idle_s)
    cpu_idle = cpu_seconds(args.pid) - cpu_start
    rss_after_idle = rss_kb(args.pid)
    for _, writer in streams:
        writer.close()
    opened = len(streams)
    print(
        json.dumps(
            {
                "streams_requested": len(lines),
                "streams_open": opened,
                "errors": errors,
                "open_time_s": round(open_time, 2),
                "streams_per_s": round(opened / open_time, 1) if open_time else None,
                "server_rss_kb_before": rss_before,
                "server_rss_kb_open": rss_open,
                "server_rss_kb_after_idle": rss_after_idle,
                "rss_per_stream_kb": round((rss_open - rss_before) / opened, 2) if opened else None,
                "server_cpu_s_idle": round(cpu_idle, 3),
                "idle_s": args.idle_s,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
