"""Log masking audit: every route of /api/openapi.json is driven with real secrets (phones in every typed form, the
one-time code, session cookies, the plan stream token, Telegram initData and its hash, webhook secrets and
signatures, answers) and with secrets where they do not belong (query strings, request-line paths, headers), on a real
`clpr serve` logging at debug level; then the whole log (stderr and stdout) is searched for each of them.

The SMS code goes to a fake gateway (CLPR_SMS_WEBHOOK_URL), as in production: the embedded default writes it to the
log on purpose (there is no other way to get it), so that mode is not what this audits.
"""

import hashlib
import hmac
import http.server
import json
import os
import socket
import threading
import time
import urllib.parse

import pytest

from clpr_process import Clpr

BOT_TOKEN = "7000001:AAbotTOKENsecretValue0123456789"
TELEGRAM_SECRET = "telegram-webhook-secret-0123456789"
N8N_SECRET = "n8n-shared-secret-0123456789abcdef"
SMS_SECRET = "sms-gateway-secret-0123456789abcdef"
PHONE_TYPED = "8 (916) 123-45-67"
PHONE_FORMS = ["+79161234567", "79161234567", "89161234567", "9161234567", "916 123-45-67", "123-45-67",
               PHONE_TYPED, "+7 916 123-45-67", "1234567"]
CONTACT_PHONE = "+7 903 765-43-21"
CONTACT_FORMS = ["+79037654321", "79037654321", "9037654321", "765-43-21", "7654321"]
ANSWER_MARKER = "ANSWERmarkerQ7V3"
QUERY_SECRET = "QUERYsecretZ9X8C7V6B5N4M3"
HEADER_SECRET = "HEADERsecretA1S2D3F4G5H6J7"
TELEGRAM_NAME = "Zebulonius"
TRAVEL = {"policy_number": "ВЗР-123456789", "event_kind": "medical", "trip_country": "Турция",
          "trip_start": "2025-07-01", "event_date": "2025-07-03", "description": "Травма " + ANSWER_MARKER,
          "expenses": "12345.67", "contacted_assistance": "yes"}


class Receiver:
    """A fake for every outgoing call (SMS gateway, n8n, CRM, Telegram Bot API): records bodies, answers 200."""

    def __init__(self):
        self.bodies: list[tuple[str, dict]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                receiver.bodies.append((self.path, body))
                answer = json.dumps({"ok": True, "result": {}, "contact_id": "crm-1"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_code(self, phone: str, timeout: float = 10) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for path, body in reversed(self.bodies):
                if path.startswith("/sms") and body.get("phone") == phone:
                    return body["code"]
            time.sleep(0.05)
        raise AssertionError(f"no code sent to {phone}: {self.bodies}")

    def close(self):
        self.server.shutdown()


class Client:
    """Raw HTTP/1.1, so request lines and headers go out exactly as written; records which routes were driven."""

    def __init__(self, port: int):
        self.port = port
        self.driven: set[tuple[str, str]] = set()
        self.count = 0

    def __call__(self, method, path, body=None, headers=None, route=None, raw_body: bytes | None = None):
        self.count += 1
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", f"Content-Length: {len(data)}"]
        if data and not any(k.lower() == "content-type" for k in (headers or {})):
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
            s.settimeout(10)
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
                if path.startswith("/api/v1/claim-plan/") and method == "GET" and b"claim_plan_" in raw:
                    break
        head_text, _, payload = raw.partition(b"\r\n\r\n")
        lines = head_text.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers_out = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
        if route:
            self.driven.add((method.lower(), route))
        return status, headers_out, payload


def init_data(fields: dict[str, str]) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
    signed = {**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}
    return urllib.parse.urlencode(signed, quote_via=urllib.parse.quote)


def signature(body: bytes) -> dict:
    timestamp = str(int(time.time()))
    mac = hmac.new(N8N_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Clpr-Timestamp": timestamp, "X-Clpr-Signature": mac}


def cookie_of(headers) -> str:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("clpr_session=") and not value.startswith("clpr_session=;"):
            return value.split(";", 1)[0]
    raise AssertionError(f"no session cookie in {headers}")


@pytest.fixture(scope="module")
def stack():
    receiver = Receiver()
    clpr = Clpr(env={
        "CLPR_LOG_LEVEL": "debug",
        "CLPR_SMS_WEBHOOK_URL": receiver.url + "/sms",
        "CLPR_SMS_WEBHOOK_SECRET": SMS_SECRET,
        "CLPR_N8N_WEBHOOK_URL": receiver.url + "/n8n",
        "CLPR_N8N_SECRET": N8N_SECRET,
        "CLPR_CRM_WEBHOOK_URL": receiver.url + "/crm",
        "CLPR_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "CLPR_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "CLPR_TELEGRAM_API_URL": receiver.url + "/telegram",
        "CLPR_PUBLIC_URL": "https://clpr.example",
    }, database_url=os.environ.get("CLPR_TEST_DATABASE_URL"))
    try:
        clpr.start()
        yield clpr, receiver
    finally:
        clpr.cleanup()
        receiver.close()


def test_no_secret_reaches_the_log(stack):
    clpr, receiver = stack
    call = Client(clpr.port)
    secrets: dict[str, str] = {}

    # Phone login, the number typed the way people type it.
    assert call("POST", "/api/v1/auth/phone", {"phone": PHONE_TYPED}, route="/api/v1/auth/phone")[0] == 200
    code = receiver.wait_code("+79161234567")
    secrets["one-time code"] = code
    assert call("POST", "/api/v1/auth/phone/verify", {"phone": PHONE_TYPED, "code": "000000" if code != "000000" else "111111"},
                route="/api/v1/auth/phone/verify")[0] in (400, 401, 404, 410, 422)
    status, headers, _ = call("POST", "/api/v1/auth/phone/verify", {"phone": PHONE_TYPED, "code": code},
                              route="/api/v1/auth/phone/verify")
    assert status == 200
    cookie = cookie_of(headers)
    secrets["session cookie"] = cookie.split("=", 1)[1]
    auth = {"Cookie": cookie, "Origin": "https://clpr.example"}

    assert call("GET", "/api/v1/me", headers=auth, route="/api/v1/me")[0] == 200
    assert call("GET", "/api/v1/claim-types", route="/api/v1/claim-types")[0] == 200
    status, _, body = call("POST", "/api/v1/claims", {"type_code": "travel"}, headers=auth, route="/api/v1/claims")
    assert status == 201, body
    claim = json.loads(body)
    claim_id = claim["claim_id"]
    status, _, body = call("PUT", f"/api/v1/claims/{claim_id}/draft", {"answers": TRAVEL, "revision": claim["revision"]},
                           headers=auth, route="/api/v1/claims/{claim_id}/draft")
    assert status == 200, body
    assert call("PUT", f"/api/v1/claims/{claim_id}/step", {"step": 2}, headers=auth,
                route="/api/v1/claims/{claim_id}/step")[0] == 204
    status, _, body = call("POST", "/api/v1/claims/wizard", {"claim_id": claim_id, "answers": TRAVEL},
                           headers=auth, route="/api/v1/claims/wizard")
    assert status == 202, body
    submission = json.loads(body)
    token, submission_id = submission["session_token"], submission["submission_id"]
    secrets["plan stream token"] = token

    # The workflow's signed plan callback, then the stream, the confirmation document, cancel and confirm.
    plan = {"version": 1, "session_token": token, "claim_id": claim_id, "submission_id": submission_id,
            "type_code": "travel", "title": "Заявление", "summary": "Проверьте " + ANSWER_MARKER,
            "fields": [{"key": "description", "label": "Описание", "value": ANSWER_MARKER}],
            "required_documents": [{"code": "passport", "title": "Паспорт", "required": True}],
            "next_steps": ["Подтвердите."], "generated_at": "2026-12-03T14:11:21Z",
            "source": "n8n"}
    raw_plan = json.dumps({"event": "claim_plan_ready", "data": plan}).encode()
    assert call("POST", f"/api/v1/claim-plan/{token}", raw_body=raw_plan, headers=signature(raw_plan),
                route="/api/v1/claim-plan/{session_token}")[0] == 200
    bad = call("POST", f"/api/v1/claim-plan/{token}", raw_body=raw_plan,
               headers={"X-Clpr-Timestamp": str(int(time.time())), "X-Clpr-Signature": "ab" * 32})
    assert bad[0] == 401
    secrets["callback signature"] = signature(raw_plan)["X-Clpr-Signature"]
    status, _, body = call("GET", f"/api/v1/claim-plan/{token}", headers=auth, route="/api/v1/claim-plan/{session_token}")
    assert status == 200 and b"claim_plan_ready" in body, body[:300]
    assert call("GET", f"/api/v1/claims/{claim_id}", headers=auth, route="/api/v1/claims/{claim_id}")[0] == 200
    render = "0123456789abcdef0123456789abcdef"
    assert call("GET", f"/api/v1/claims/{claim_id}/confirmation?render={render}", headers=auth,
                route="/api/v1/claims/{claim_id}/confirmation")[0] == 200
    assert call("PUT", f"/api/v1/claims/{claim_id}/step", {"step": 2}, headers=auth,
                route="/api/v1/claims/{claim_id}/step")[0] in (204, 409)
    assert call("GET", f"/api/v1/claims/{claim_id}/telegram-notice", headers=auth,
                route="/api/v1/claims/{claim_id}/telegram-notice")[0] == 200
    assert call("PUT", f"/api/v1/claims/{claim_id}/telegram-notice", {"submission_id": submission_id}, headers=auth,
                route="/api/v1/claims/{claim_id}/telegram-notice")[0] in (200, 404, 409)
    assert call("POST", f"/api/v1/claims/{claim_id}/cancel", {"submission_id": submission_id}, headers=auth,
                route="/api/v1/claims/{claim_id}/cancel")[0] in (200, 409)
    call("POST", "/api/v1/claims/wizard", {"claim_id": claim_id, "answers": TRAVEL}, headers=auth)
    claim_now = json.loads(call("GET", f"/api/v1/claims/{claim_id}", headers=auth)[2])
    assert call("POST", f"/api/v1/claims/{claim_id}/confirm", {"submission_id": claim_now.get("submission_id") or ""},
                headers=auth, route="/api/v1/claims/{claim_id}/confirm")[0] in (200, 409)
    # Documents (the plan lists one): a file whose name holds an answer, its download, delete, again, and send.
    documents = f"/api/v1/claims/{claim_id}/documents"
    assert call("GET", documents, headers=auth, route="/api/v1/claims/{claim_id}/documents")[0] == 200
    boundary = "clprLogMaskingBoundary"
    upload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"field_name\"\r\n\r\npassport\r\n"
              f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{ANSWER_MARKER}.pdf\"\r\n"
              "Content-Type: application/pdf\r\n\r\n").encode() + b"%PDF-1.4\n%%EOF\n" + f"\r\n--{boundary}--\r\n".encode()
    multipart = {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, _, body = call("POST", documents, headers=multipart, raw_body=upload, route="/api/v1/claims/{claim_id}/documents")
    assert status == 201, body
    document_path = json.loads(body)["download_url"]
    assert call("GET", document_path, headers=auth, route="/api/v1/claims/{claim_id}/documents/{document_id}")[0] == 200
    assert call("DELETE", document_path, headers=auth, route="/api/v1/claims/{claim_id}/documents/{document_id}")[0] == 204
    assert call("POST", documents, headers=multipart, raw_body=upload)[0] == 201
    status, _, body = call("POST", f"{documents}/submit", headers=auth, route="/api/v1/claims/{claim_id}/documents/submit")
    assert status == 200, body
    assert call("GET", "/api/v1/claims/drafts", headers=auth, route="/api/v1/claims/drafts")[0] == 200
    assert call("GET", "/api/v1/claims", headers=auth, route="/api/v1/claims")[0] == 200

    # Telegram: the Mini App login (initData with a name and a hash), a forged one, the bot webhook with a contact.
    user = json.dumps({"id": 424242, "first_name": TELEGRAM_NAME, "username": TELEGRAM_NAME.lower()},
                      separators=(",", ":"))
    raw_init = init_data({"query_id": "AAQueryIdSecret0001", "user": user, "auth_date": str(int(time.time()))})
    secrets["initData"] = raw_init
    secrets["initData hash"] = urllib.parse.parse_qs(raw_init)["hash"][0]
    secrets["initData query_id"] = "AAQueryIdSecret0001"
    status, headers, body = call("POST", "/api/v1/auth/telegram", {"init_data": raw_init}, route="/api/v1/auth/telegram")
    assert status == 200, body
    telegram_cookie = cookie_of(headers)
    secrets["Telegram session cookie"] = telegram_cookie.split("=", 1)[1]
    assert call("POST", "/api/v1/auth/telegram", {"init_data": raw_init.replace("auth_date", "auth_datum")})[0] == 401
    update = {"update_id": 9001, "message": {"message_id": 1, "chat": {"id": 424242}, "from": {"id": 424242},
                                             "contact": {"phone_number": CONTACT_PHONE, "user_id": 424242}}}
    assert call("POST", "/api/v1/telegram/webhook", update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                route="/api/v1/telegram/webhook")[0] == 200
    assert call("POST", "/api/v1/telegram/webhook", update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong-" + TELEGRAM_SECRET})[0] == 401

    # Secrets where they do not belong: query strings, paths that match no route, headers of every kind.
    for path in (f"/api/v1/me?token={QUERY_SECRET}&phone=%2B79161234567", f"/healthz?code={code}",
                 f"/api/v1/claim-plan/{token}/extra", f"/{token}.js", f"/api/v1/claim-plan/{token}%20",
                 f"/api/v1/users/{secrets['session cookie']}", "/api/v1/users/+79161234567/claims",
                 "/api/v1/users/89161234567", f"/search?q={urllib.parse.quote(PHONE_TYPED)}",
                 f"/api/v1/claims/{claim_id}/confirmation?render={render}&init_data={urllib.parse.quote(raw_init)}"):
        call("GET", path, headers={**auth, "Authorization": f"Bearer {HEADER_SECRET}", "X-Api-Key": HEADER_SECRET,
                                   "X-Telegram-Init-Data": raw_init, "X-Phone": PHONE_TYPED})
        call("POST", path, {"phone": PHONE_TYPED, "code": code}, headers={"Cookie": cookie})
    assert call("POST", "/api/v1/auth/logout-all", headers={"Cookie": telegram_cookie, "Origin": "https://clpr.example"},
                route="/api/v1/auth/logout-all")[0] == 200
    assert call("POST", "/api/v1/auth/logout", headers=auth, route="/api/v1/auth/logout")[0] == 204
    for path in ("/healthz", "/readyz", "/metrics", "/api/openapi.json"):
        assert call("GET", path, route=path)[0] == 200
    secrets |= {"query secret": QUERY_SECRET, "header secret": HEADER_SECRET, "bot token": BOT_TOKEN,
                "bot token secret part": BOT_TOKEN.split(":")[1], "webhook secret": TELEGRAM_SECRET,
                "n8n secret": N8N_SECRET, "SMS secret": SMS_SECRET, "answer": ANSWER_MARKER,
                "Telegram name": TELEGRAM_NAME, "Telegram username": TELEGRAM_NAME.lower()}
    for form in PHONE_FORMS:
        secrets[f"phone {form}"] = form
    for form in CONTACT_FORMS:
        secrets[f"contact phone {form}"] = form

    # Every documented operation was driven.
    document = json.loads(call("GET", "/api/openapi.json")[2])
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented - call.driven == set(), f"routes not driven: {sorted(documented - call.driven)}"

    time.sleep(1.5)  # the outbox dispatcher's calls (n8n, CRM, Bot API) and their log lines
    log = clpr.log_text()
    lines = log.splitlines()
    assert sum('"msg":"request"' in line for line in lines) >= call.count, "a request without its log line"
    assert "+7 916 ***-**-67" in log, "expected the masked phone in the log (else the scan proves little)"
    leaks = {}
    for name, secret in secrets.items():
        for variant in {secret, json.dumps(secret)[1:-1], urllib.parse.quote(secret), urllib.parse.quote_plus(secret)}:
            hits = [line for line in lines if variant in line]
            if hits:
                leaks[name] = hits[:3]
    print(f"RELIABILITY log masking: {len(lines)} log lines, {len(call.driven)} documented operations driven, "
          f"{len(secrets)} secrets searched, {len(leaks)} found")
    assert leaks == {}, json.dumps(leaks, ensure_ascii=False, indent=1)
