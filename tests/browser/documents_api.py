"""A small HTTP client for the documents tests: login by the code in the server log, a confirmed claim, multipart
uploads streamed from disk (never the whole file in memory)."""

import http.client
import json
import os
import time
import uuid

from test_flow import TRAVEL_ANSWERS

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


class Client:
    """One person's session against a running server (cookie kept)."""

    def __init__(self, server, phone="+79161234567"):
        self.server = server
        self.cookie = None
        self.phone = phone

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = self.connection(timeout)
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.cookie:
            all_headers["Cookie"] = self.cookie
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, dict(response.getheaders()), data

    def json(self, method, path, body=None):
        status, _, data = self.request(method, path, body)
        return status, (json.loads(data) if data else None)

    def log_in(self):
        before = self.server.codes_seen()
        status, _ = self.json("POST", "/api/v1/auth/phone", {"phone": self.phone})
        assert status == 200
        deadline = time.time() + 10
        while self.server.codes_seen() == before and time.time() < deadline:
            time.sleep(0.05)
        code = self.server.latest_code()
        status, headers, _ = self.request(
            "POST", "/api/v1/auth/phone/verify", {"phone": self.phone, "code": code})
        assert status == 200
        self.cookie = headers["Set-Cookie"].split(";")[0]
        return self

    def confirmed_claim(self):
        """A travel claim submitted, planned by the built-in planner and confirmed: `awaiting_documents`."""
        status, body = self.json("POST", "/api/v1/claims/wizard", {"type_code": "travel", "answers": TRAVEL_ANSWERS})
        assert status == 202, body
        claim_id, submission = body["claim_id"], body["submission_id"]
        deadline = time.time() + 15
        while time.time() < deadline:
            status, body = self.json("POST", f"/api/v1/claims/{claim_id}/confirm", {"submission_id": submission})
            if status == 200:
                assert body["status"] == "awaiting_documents", body
                return claim_id
            assert status == 409 and body["error"]["code"] == "plan_not_ready", body
            time.sleep(0.2)
        raise AssertionError("the plan never arrived")

    def upload(self, claim_id, field_name, content=None, *, path=None, file_name="scan.pdf",
               content_type="application/pdf", timeout=120, on_sent=None, headers=None):
        """POST multipart/form-data; `content` bytes or a file at `path` streamed in 64 KiB pieces.
        Returns (status, json body or None)."""
        boundary = "----clpr" + uuid.uuid4().hex
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"field_name\"\r\n\r\n{field_name}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = len(content) if content is not None else os.path.getsize(path)
        conn = self.connection(timeout)
        conn.putrequest("POST", f"/api/v1/claims/{claim_id}/documents")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.putheader("Accept", "application/json")
        if self.cookie:
            conn.putheader("Cookie", self.cookie)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            conn.send(head)
            if content is not None:
                conn.send(content)
            else:
                with open(path, "rb") as f:
                    while True:
                        piece = f.read(64 * 1024)
                        if not piece:
                            break
                        conn.send(piece)
                        if on_sent:
                            on_sent(f.tell())
            conn.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole body was sent: the answer is still there to read
        response = conn.getresponse()
        data = response.read()
        conn.close()
        return response.status, (json.loads(data) if data else None)

    def documents(self, claim_id):
        status, body = self.json("GET", f"/api/v1/claims/{claim_id}/documents")
        assert status == 200, body
        return body
