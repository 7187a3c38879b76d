#!/usr/bin/env python3
"""A fake n8n for clpr's tests: a real HTTP server on loopback that receives clpr's signed webhook and behaves
like a (good or bad) workflow. Standard library only.

Modes (--mode):
  ok        answer 200 at once ("respond immediately"), PUBLISH the plan on Redis after --delay-ms
  empty     answer 200 with an empty body and never publish (a failed workflow that still says 200)
  error500  answer 500          error429  answer 429 with Retry-After
  hang      hold the request for --hang-s seconds before answering 200 (past clpr's timeout)
  twice     answer 200 and publish the plan twice (one webhook call, two executions)
  flaky     answer 500 with probability --fail-rate, else as ok
  crm       the CRM contact step: answer 200 {"contact_id": "c-<n>"}, one id per phone

Deliveries go to Redis (--redis redis://host:port) or, with --callback http://127.0.0.1:PORT, to clpr's signed
POST /api/v1/claim-plan/{token}. GET /stats answers counters per Idempotency-Key as JSON. The first line on
stdout is "PORT <n>".
"""
import argparse
import hashlib
import hmac
import json
import random
import socket
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATS = {"requests": {}, "accepted": {}, "published": {}, "bad_signatures": 0, "bodies": {}, "headers": {}}
CONTACTS = {}


def count(name, key):
    with LOCK:
        STATS[name][key] = STATS[name].get(key, 0) + 1


def redis_publish(channel, payload):
    url = ARGS.redis[len("redis://"):].split("/")[0]
    password = None
    if "@" in url:
        auth, url = url.rsplit("@", 1)
        password = auth.split(":", 1)[-1]
    host, port = url.rsplit(":", 1)

    def command(*parts):
        out = b"*%d\r\n" % len(parts)
        for part in parts:
            data = part if isinstance(part, bytes) else part.encode()
            out += b"$%d\r\n%s\r\n" % (len(data), data)
        return out

    with socket.create_connection((host, int(port)), timeout=5) as conn:
        if password:
            conn.sendall(command("AUTH", password))
            conn.recv(1024)
        conn.sendall(command("SET", "claim:plan:" + channel, payload, "EX", "3600"))
        conn.recv(1024)
        conn.sendall(command("PUBLISH", "claim:plan:" + channel, payload))
        conn.recv(1024)


def callback_deliver(token, payload):
    timestamp = str(int(time.time()))
    signature = hmac.new(ARGS.secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        ARGS.callback + "/api/v1/claim-plan/" + token, data=payload, method="POST",
        headers={"Content-Type": "application/json", "X-Clpr-Timestamp": timestamp, "X-Clpr-Signature": signature})
    try:
        urllib.request.urlopen(request, timeout=5).read()
    except Exception as error:  # a 409/422 is an answer too; the test reads clpr's side
        print("callback:", error, file=sys.stderr, flush=True)


def plan_for(body):
    answers = body.get("answers") or {}
    return {
        "version": 1,
        "session_token": body["session_token"],
        "claim_id": body["claim_id"],
        "submission_id": body["submission_id"],
        "type_code": body["type_code"],
        "title": "Заявление (" + body["type_code"] + ")",
        "summary": "План подготовлен тестовым n8n.",
        "fields": [{"key": k, "label": k, "value": v} for k, v in sorted(answers.items())],
        "required_documents": [{"code": "passport", "title": "Паспорт", "required": True}],
        "next_steps": ["Подтвердите заявление."],
        "source": "fake-n8n",
    }


def deliver_later(body, times):
    time.sleep(ARGS.delay_ms / 1000)
    payload = json.dumps(plan_for(body), ensure_ascii=False).encode()
    for _ in range(times):
        if ARGS.callback:
            callback_deliver(body["session_token"], payload)
        else:
            redis_publish(body["session_token"], payload)
        count("published", body["submission_id"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with LOCK:
            data = json.dumps(STATS).encode()
        self.answer(200, data, [("Content-Type", "application/json")])

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Idempotency-Key", "")
        count("requests", key)
        if ARGS.secret and ARGS.mode != "crm":
            # The workflow's "verify signature" step (see integrations/n8n/clpr-claim-plan.json).
            timestamp = self.headers.get("X-Clpr-Timestamp", "")
            expected = hmac.new(ARGS.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
            if not fresh or not hmac.compare_digest(expected, self.headers.get("X-Clpr-Signature", "")):
                with LOCK:
                    STATS["bad_signatures"] += 1
                return self.answer(401)
        with LOCK:
            STATS["bodies"][key] = raw.decode()
            STATS["headers"][key] = {name: value for name, value in self.headers.items()}
        mode = ARGS.mode
        if mode == "flaky":
            mode = "error500" if random.random() < ARGS.fail_rate else "ok"
        if mode == "error500":
            return self.answer(500, b'{"message":"Error in workflow"}')
        if mode == "error429":
            return self.answer(429, b"", [("Retry-After", "1")])
        if mode == "hang":
            time.sleep(ARGS.hang_s)
            return self.answer(200)
        if mode == "crm":
            with LOCK:
                contact = CONTACTS.setdefault(key, "c-%d" % (len(CONTACTS) + 1))
            count("accepted", key)
            return self.answer(200, json.dumps({"contact_id": contact}).encode(), [("Content-Type", "application/json")])
        count("accepted", key)
        if mode == "empty":
            return self.answer(200)
        body = json.loads(raw)
        threading.Thread(target=deliver_later, args=(body, 2 if mode == "twice" else 1), daemon=True).start()
        self.answer(200, b'{"message":"Workflow was started"}', [("Content-Type", "application/json")])


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="ok")
    parser.add_argument("--secret", default="")
    parser.add_argument("--redis", default="")
    parser.add_argument("--callback", default="")
    parser.add_argument("--delay-ms", type=int, default=100)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--hang-s", type=float, default=5)
    parser.add_argument("--seed", type=int, default=None)
    ARGS = parser.parse_args()
    random.seed(ARGS.seed)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
