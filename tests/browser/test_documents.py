"""The documents step (issue 7) against a real clpr: uploads streamed through libmicrohttpd's post processor into
the content-addressed file store, on the embedded SQLite store and on PostgreSQL; the browser part in Chromium."""

import concurrent.futures
import hashlib
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from documents_api import ELF, JPEG, PDF, PNG, Client
from documents_ui import PDF_HEAD, attach_files, send_documents, slot_codes, wait_files
from test_flow import css, log_in, step


# MARK: - What the server keeps

def blobs(server):
    root = pathlib.Path(server.data) / "files" / "blobs"
    return sorted(p.name for p in root.glob("*/*"))


def temporary_files(server):
    return sorted(p.name for p in (pathlib.Path(server.data) / "files" / "tmp").iterdir())


def query(server, env, sql):
    """Rows of `sql` (text columns joined by |) from the server's database, SQLite file or PostgreSQL."""
    if env.get("CLPR_DATABASE_URL"):
        out = subprocess.run(["psql", "-At", "-F", "|", env["CLPR_DATABASE_URL"], "-c", sql],
                             capture_output=True, text=True, check=True).stdout
        return [line for line in out.splitlines() if line]
    with sqlite3.connect(pathlib.Path(server.data) / "clpr.sqlite3") as db:
        return ["|".join("" if v is None else str(v) for v in row) for row in db.execute(sql)]


def documents_meta(server, env, claim_id):
    rows = query(server, env, f"SELECT payload->>'documents_meta' FROM clpr_claims WHERE id = '{claim_id}'")
    return json.loads(rows[0])


def document_rows(server, env, claim_id):
    return query(server, env, f"SELECT id, field_name, file_id FROM clpr_claim_documents WHERE claim_id = '{claim_id}'")


def pdf(n, size=0):
    return PDF + f"% document {n}\n".encode() + b"\0" * size


@pytest.fixture
def person(database_env, server_factory):
    server = server_factory(CLPR_PLANNER_DELAY_MS="100", **database_env)
    client = Client(server).log_in()
    return server, client, database_env


# MARK: - The API

def test_upload_list_download_delete_and_send(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    slots = [s["code"] for s in client.documents(claim_id)["slots"]]
    assert slots[:3] == ["passport", "travel_passport", "policy"]

    status, doc = client.upload(claim_id, "passport", pdf(1), file_name="паспорт стр.2.pdf")
    assert status == 201 and doc["file_name"] == "паспорт стр.2.pdf" and doc["content_type"] == "application/pdf"
    status, headers, data = client.request("GET", doc["download_url"])
    assert status == 200 and data == pdf(1) and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D0%BF%D0%B0%D1%81" in headers["Content-Disposition"]

    # Sending with required documents missing names them; the claim stays where it is.
    status, body = client.json("POST", f"/api/v1/claims/{claim_id}/documents/submit")
    assert status == 422 and body["error"]["code"] == "documents_missing"
    assert "travel_passport" in body["error"]["missing"] and "passport" not in body["error"]["missing"]

    # Delete: the row, its meta entry and the blob go.
    status, _, _ = client.request("DELETE", doc["download_url"])
    assert status == 204
    assert client.documents(claim_id)["documents"] == [] and documents_meta(server, env, claim_id) == []
    assert blobs(server) == []
    assert client.request("GET", doc["download_url"])[0] == 404

    for index, slot in enumerate(slots):
        status, _ = client.upload(claim_id, slot, pdf(10 + index), file_name=f"{slot}.pdf")
        assert status == 201
    listing = client.documents(claim_id)
    assert listing["can_submit"] and listing["missing"] == []
    status, claim = client.json("POST", f"/api/v1/claims/{claim_id}/documents/submit")
    assert status == 200 and claim["status"] == "in_work"
    assert [h["status"] for h in claim["status_history"]] == ["draft", "awaiting_documents", "in_work"]
    # Sent: again is a no-op; no more uploads or deletes.
    assert client.json("POST", f"/api/v1/claims/{claim_id}/documents/submit")[0] == 200
    assert client.upload(claim_id, "passport", pdf(99))[0] == 409
    assert client.request("DELETE", listing["documents"][0]["download_url"])[0] == 409


def test_25_mb_file_is_refused_with_413_and_nothing_is_stored(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    big = pathlib.Path(server.data) / "big.pdf"
    with open(big, "wb") as f:
        f.write(pdf(1, 25 * 1024 * 1024))
    status, body = client.upload(claim_id, "passport", path=big)
    assert status == 413 and body["error"]["code"] == "document_too_large"
    assert body["error"]["max_bytes"] == 20 * 1024 * 1024
    # Refused before the body was read: no temporary file, no blob, no row, no meta.
    assert temporary_files(server) == [] and blobs(server) == []
    assert document_rows(server, env, claim_id) == [] and documents_meta(server, env, claim_id) == []


def test_file_over_the_limit_without_content_length_is_refused_too(person):
    """A body within the request limit whose file part is over the document limit (multipart overhead) is read,
    dropped on the fly and answered 413."""
    server, client, env = person
    claim_id = client.confirmed_claim()
    exact = 20 * 1024 * 1024 - len(pdf(1, 0))
    status, body = client.upload(claim_id, "passport", pdf(1, exact + 100))
    assert status == 413 and body["error"]["code"] == "document_too_large"
    assert temporary_files(server) == [] and blobs(server) == [] and document_rows(server, env, claim_id) == []
    status, _ = client.upload(claim_id, "passport", pdf(1, exact))  # exactly 20 MiB
    assert status == 201


def test_executable_named_pdf_and_mismatched_types_are_refused_with_415(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    status, body = client.upload(claim_id, "passport", ELF, file_name="passport.pdf")
    assert status == 415 and body["error"]["code"] == "unsupported_document_type"
    status, body = client.upload(claim_id, "passport", PNG, file_name="scan.pdf", content_type="image/png")
    assert status == 415 and body["error"]["code"] == "document_type_mismatch"
    status, body = client.upload(claim_id, "passport", PDF, file_name="scan.pdf", content_type="image/jpeg")
    assert status == 415 and body["error"]["code"] == "document_type_mismatch"
    status, body = client.upload(claim_id, "passport", JPEG, file_name="photo.exe", content_type="image/jpeg")
    assert status == 415
    assert temporary_files(server) == [] and blobs(server) == [] and document_rows(server, env, claim_id) == []
    # What the content says wins over a vague declaration: a JPEG sent as octet-stream with no extension is fine.
    status, doc = client.upload(claim_id, "passport", JPEG, file_name="IMG_0001", content_type="application/octet-stream")
    assert status == 201 and doc["content_type"] == "image/jpeg"


def test_names_with_paths_and_control_characters_are_stored_and_served_safely(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    status, doc = client.upload(claim_id, "passport", pdf(1), file_name="../../etc/passwd")
    assert status == 201 and doc["file_name"] == "passwd"
    status, doc2 = client.upload(claim_id, "policy", pdf(2), file_name="..\\..\\x\ty\x1b[31m\u202egnp.pdf")
    assert status == 201 and doc2["file_name"] == "xy[31mgnp.pdf"
    # Stored by content hash inside the files directory, nowhere else.
    assert blobs(server) == sorted([hashlib.sha256(pdf(1)).hexdigest(), hashlib.sha256(pdf(2)).hexdigest()])
    names = query(server, env, f"SELECT original_file_name, file_name FROM clpr_claim_documents WHERE claim_id = '{claim_id}' ORDER BY original_file_name")
    assert names == ["passwd|" + hashlib.sha256(pdf(1)).hexdigest() + ".pdf",
                     "xy[31mgnp.pdf|" + hashlib.sha256(pdf(2)).hexdigest() + ".pdf"]
    _, headers, _ = client.request("GET", doc2["download_url"])
    disposition = headers["Content-Disposition"]
    assert "\n" not in disposition and "\x1b" not in disposition and "/" not in disposition.split("filename*=")[0]


def test_the_same_file_twice_is_one_blob_and_two_rows_only_in_two_slots(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    first = client.upload(claim_id, "passport", pdf(1), file_name="a.pdf")
    again = client.upload(claim_id, "passport", pdf(1), file_name="b.pdf")
    assert first[0] == 201 and again[0] == 200 and again[1]["id"] == first[1]["id"]
    other_slot = client.upload(claim_id, "policy", pdf(1), file_name="c.pdf")
    assert other_slot[0] == 201 and other_slot[1]["id"] != first[1]["id"]
    assert blobs(server) == [hashlib.sha256(pdf(1)).hexdigest()]
    rows = document_rows(server, env, claim_id)
    assert len(rows) == 2 and len({r.split("|")[2] for r in rows}) == 1
    assert query(server, env, "SELECT count(*) FROM clpr_documents") == ["1"]
    # Deleting one of the two keeps the shared blob; deleting the other removes it.
    assert client.request("DELETE", first[1]["download_url"])[0] == 204
    assert blobs(server) == [hashlib.sha256(pdf(1)).hexdigest()]
    assert client.request("DELETE", other_slot[1]["download_url"])[0] == 204
    assert blobs(server) == [] and query(server, env, "SELECT count(*) FROM clpr_documents") == ["0"]


def test_someone_elses_claim_is_not_found(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    status, doc = client.upload(claim_id, "passport", pdf(1))
    assert status == 201
    other = Client(server, phone="+79031112233").log_in()
    status, body = other.upload(claim_id, "policy", pdf(2))
    assert status == 404 and body["error"]["code"] == "claim_not_found"
    assert other.json("GET", f"/api/v1/claims/{claim_id}/documents")[0] == 404
    assert other.request("GET", doc["download_url"])[0] == 404
    assert other.request("DELETE", doc["download_url"])[0] == 404
    assert other.json("POST", f"/api/v1/claims/{claim_id}/documents/submit")[0] == 404
    anonymous = Client(server)
    assert anonymous.upload(claim_id, "policy", pdf(3))[0] == 401
    assert anonymous.request("GET", doc["download_url"])[0] == 401
    # Only the owner's one document exists; nothing of the refused uploads was kept.
    assert [r.split("|")[1] for r in document_rows(server, env, claim_id)] == ["passport"]
    assert blobs(server) == [hashlib.sha256(pdf(1)).hexdigest()] and temporary_files(server) == []


def test_twenty_parallel_uploads_to_one_claim_are_all_stored_and_documents_meta_agrees(person):
    server, client, env = person
    claim_id = client.confirmed_claim()
    slots = [s["code"] for s in client.documents(claim_id)["slots"]]

    def upload(n):
        return client.upload(claim_id, slots[n % len(slots)], pdf(n, 64 * 1024), file_name=f"{n}.pdf")

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(upload, range(20)))
    assert [status for status, _ in results] == [201] * 20
    ids = {body["id"] for _, body in results}
    listed = client.documents(claim_id)["documents"]
    assert {d["id"] for d in listed} == ids
    meta = documents_meta(server, env, claim_id)
    assert len(meta) == 20 and {m["id"] for m in meta} == ids
    assert {(m["id"], m["field_name"], m["sha256"]) for m in meta} == {(d["id"], d["field_name"], d["sha256"]) for d in listed}
    assert {r.split("|")[0] for r in document_rows(server, env, claim_id)} == ids
    assert len(blobs(server)) == 20 and temporary_files(server) == []


def test_an_upload_refused_before_its_handler_leaves_no_temporary_file(person):
    """A cross-site POST is refused by the check that runs before every handler, after the body streamed in."""
    server, client, env = person
    claim_id = client.confirmed_claim()
    status, body = client.upload(claim_id, "passport", pdf(1, 300_000), headers={"Origin": "https://evil.example"})
    assert status == 403 and body["error"]["code"] == "cross_origin"
    # Released when libmicrohttpd reports the request done, just after the response went out.
    deadline = time.time() + 3
    while temporary_files(server) and time.time() < deadline:
        time.sleep(0.02)
    assert temporary_files(server) == [] and blobs(server) == [] and document_rows(server, env, claim_id) == []


def test_documents_per_claim_limit(database_env, server_factory):
    server = server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DOCUMENTS_PER_CLAIM="2", **database_env)
    client = Client(server).log_in()
    claim_id = client.confirmed_claim()
    assert client.upload(claim_id, "passport", pdf(1))[0] == 201
    assert client.upload(claim_id, "passport", pdf(2))[0] == 201
    status, body = client.upload(claim_id, "policy", pdf(3))
    assert status == 409 and body["error"]["code"] == "too_many_documents"
    assert len(blobs(server)) == 2 and temporary_files(server) == []


# MARK: - Crashes

def test_killed_mid_upload_leaves_no_row_without_a_file_and_no_orphan_after_restart(server_factory):
    """SIGKILL while a file streams in, and again right after uploads: after the restart every row has its blob
    and every blob has its row; temporary files are gone."""
    server = server_factory(CLPR_PLANNER_DELAY_MS="100")
    client = Client(server).log_in()
    claim_id = client.confirmed_claim()
    assert client.upload(claim_id, "passport", pdf(1))[0] == 201
    big = pathlib.Path(server.data) / "big.pdf"
    with open(big, "wb") as f:
        f.write(pdf(2, 15 * 1024 * 1024))

    half_sent = threading.Event()
    outcome = {}

    def sent(position):
        if position > 6 * 1024 * 1024:
            half_sent.set()
            time.sleep(0.05)  # keep the upload in flight while the server is killed

    def run():
        try:
            outcome["result"] = client.upload(claim_id, "policy", path=big, on_sent=sent, timeout=20)
        except OSError as error:
            outcome["error"] = error

    uploader = threading.Thread(target=run)
    uploader.start()
    assert half_sent.wait(20)
    time.sleep(0.3)
    assert len(temporary_files(server)) == 1, "the upload is being written to a temporary file"
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    uploader.join(30)
    assert "result" not in outcome or outcome["result"][0] != 201

    restarted = server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DATA_DIR=server.data)
    restarted.data = server.data  # the same data directory (the factory made an unused one)
    assert temporary_files(restarted) == []
    assert blobs(restarted) == [hashlib.sha256(pdf(1)).hexdigest()]
    hashes = query(restarted, {}, "SELECT b.sha256 FROM clpr_claim_documents d JOIN clpr_documents b ON b.id = d.file_id")
    assert hashes == [hashlib.sha256(pdf(1)).hexdigest()]
    # The person carries on where they were.
    client.server = restarted
    assert client.upload(claim_id, "policy", path=big)[0] == 201
    assert len(blobs(restarted)) == 2


def test_a_client_that_goes_away_mid_upload_leaves_nothing(person, server_factory):
    server, client, env = person
    claim_id = client.confirmed_claim()
    conn = client.connection()
    boundary = "XyZ"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"field_name\"\r\n\r\npassport\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    conn.putrequest("POST", f"/api/v1/claims/{claim_id}/documents")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + 5_000_000))
    conn.putheader("Cookie", client.cookie)
    conn.endheaders()
    conn.send(head + pdf(1, 2_000_000))
    deadline = time.time() + 10
    while not temporary_files(server) and time.time() < deadline:
        time.sleep(0.05)
    assert len(temporary_files(server)) == 1
    conn.sock.close()
    time.sleep(0.5)
    assert blobs(server) == [] and document_rows(server, env, claim_id) == []
    # The temporary file goes when libmicrohttpd reports the request ended: at once when it notices the close,
    # at the latest after the 60 s connection timeout (a close arriving while it is busy reading is noticed
    # late with its edge-triggered epoll), when the server stops, and in any case at the next start.
    server.stop()
    restarted = server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DATA_DIR=server.data, **env)
    restarted.data = server.data
    assert temporary_files(restarted) == [] and blobs(restarted) == []


def test_orphans_left_by_a_crash_between_blob_and_row_are_removed_at_start(server_factory):
    """What a crash after the rename but before the commit leaves (a blob no row names, a temporary file) is
    removed by the start-up pass; blobs that rows name stay."""
    server = server_factory(CLPR_PLANNER_DELAY_MS="100")
    client = Client(server).log_in()
    claim_id = client.confirmed_claim()
    assert client.upload(claim_id, "passport", pdf(1))[0] == 201
    server.stop()
    orphan = "ab" * 32
    root = pathlib.Path(server.data) / "files"
    (root / "blobs" / "ab").mkdir(exist_ok=True)
    (root / "blobs" / "ab" / orphan).write_bytes(b"%PDF-orphan")
    (root / "tmp" / "0123.part").write_bytes(b"half")
    restarted = server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DATA_DIR=server.data)
    restarted.data = server.data  # the same data directory (the factory made an unused one)
    assert blobs(restarted) == [hashlib.sha256(pdf(1)).hexdigest()] and temporary_files(restarted) == []
    assert "removed orphaned files" in restarted.log_path.read_text()


# MARK: - Memory while a large file streams

def resident_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_memory_stays_flat_while_a_200_mb_file_streams(server_factory):
    server = server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DOCUMENT_MAX_BYTES=str(256 * 1024 * 1024))
    client = Client(server).log_in()
    claim_id = client.confirmed_claim()
    big = pathlib.Path(server.data) / "big.pdf"
    with open(big, "wb") as f:
        f.write(pdf(1))
        chunk = os.urandom(1024 * 1024)
        for _ in range(200):
            f.write(chunk)
    before = resident_kib(server.process.pid)
    peak = [before]

    def sample(_position):
        peak[0] = max(peak[0], resident_kib(server.process.pid))

    status, doc = client.upload(claim_id, "passport", path=big, on_sent=sample, timeout=300)
    assert status == 201 and doc["size"] == big.stat().st_size
    growth_mb = (peak[0] - before) / 1024
    print(f"RSS before {before / 1024:.1f} MB, peak while streaming {peak[0] / 1024:.1f} MB (+{growth_mb:.1f} MB)")
    assert growth_mb < 32, f"RSS grew by {growth_mb:.1f} MB while a 200 MB file streamed"


# MARK: - The browser

def test_documents_step_in_the_browser_with_progress_retry_delete_and_resume(database_env, server_factory, browser):
    server = server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DOCUMENT_MAX_BYTES=str(8 * 1024 * 1024), **database_env)
    log_in(browser, server)
    # A confirmed claim through the API from the page (the wizard itself has its own tests).
    claim_id = browser.execute_script(
        """
        const post = (p, b) => fetch(p, {method: 'POST', headers: {'Content-Type': 'application/json', Accept: 'application/json'}, body: JSON.stringify(b)});
        const r = await (await post('/api/v1/claims/wizard', {type_code: 'travel', answers: arguments[0]})).json();
        for (let i = 0; i < 100; i++) {
            const c = await post(`/api/v1/claims/${r.claim_id}/confirm`, {submission_id: r.submission_id});
            if (c.status === 200) return r.claim_id;
            await new Promise((ok) => setTimeout(ok, 200));
        }
        return null;
        """,
        __import__("test_flow").TRAVEL_ANSWERS,
    )
    assert claim_id
    browser.get(f"{server.base}/#/claims/{claim_id}")
    step(browser, "done")
    assert "Ждёт документов" in css(browser, "#claim-status").text
    css(browser, "#to-documents").click()
    step(browser, "documents")
    slots = slot_codes(browser)
    assert slots[0] == "passport" and not css(browser, "#send-documents").is_enabled()
    assert css(browser, "#file-passport").get_attribute("multiple") is not None
    assert css(browser, "#camera-passport").get_attribute("capture") == "environment"

    # A 6 MB file over a throttled link: the progress bar moves through intermediate values.
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 5, "downloadThroughput": 10_000_000, "uploadThroughput": 2_000_000})
    attach_files(browser, "file-passport", [("паспорт.pdf", PDF_HEAD, "application/pdf", 6 * 1024 * 1024)])
    seen = set()
    deadline = time.time() + 30
    while time.time() < deadline:
        values = browser.execute_script(
            "return [...document.querySelectorAll('#uploads-passport progress')].map((p) => p.value)")
        seen.update(values)
        if not values and browser.find_elements(By.CSS_SELECTOR, "#files-passport .doc-file"):
            break
        time.sleep(0.05)
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    assert any(0 < v < 100 for v in seen), f"no intermediate progress seen: {sorted(seen)}"
    wait_files(browser, "passport", 1)
    assert "паспорт.pdf" in css(browser, "#files-passport").text

    # Refused files say why, in the slot: an executable named .pdf, a file over the limit (checked before sending).
    attach_files(browser, "file-policy", [
        ("policy.pdf", b"\x7fELF\x02\x01\x01\x00", "application/pdf", 100),
        ("huge.pdf", PDF_HEAD, "application/pdf", 9 * 1024 * 1024),
    ])
    WebDriverWait(browser, 15).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#uploads-policy .upload--failed")) == 2)
    failed = css(browser, "#uploads-policy").text
    assert "Подходят PDF" in failed and "Файл слишком большой" in failed
    for dismiss in browser.find_elements(By.CSS_SELECTOR, "#uploads-policy .upload__dismiss"):
        dismiss.click()

    # A name with a path, a newline and markup is shown as text, without the path or the newline.
    attach_files(browser, "file-policy", [("../../etc/passwd\n<img src=x onerror=window.__xss=1>.pdf", PDF_HEAD + b"2", "application/pdf", 10)])
    wait_files(browser, "policy", 1)
    shown = css(browser, "#files-policy .doc-file__name").text
    assert shown.startswith("passwd") and "<img src=x" in shown and "/" not in shown and "\n" not in shown
    assert browser.find_elements(By.CSS_SELECTOR, "#files-policy img") == []
    assert browser.execute_script("return window.__xss") is None

    # Retry: the server is gone while a file is sent; it comes back (same port, same data); «Повторить» sends it.
    server.stop()
    attach_files(browser, "file-receipts", [("чек.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg", 1000)])
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#uploads-receipts .upload__retry"))
    import conftest
    free_port, conftest.free_port = conftest.free_port, lambda: server.port
    try:
        server_factory(CLPR_PLANNER_DELAY_MS="100", CLPR_DATA_DIR=server.data, **database_env)
    finally:
        conftest.free_port = free_port
    css(browser, "#uploads-receipts .upload__retry").click()
    wait_files(browser, "receipts", 1)
    assert browser.find_elements(By.CSS_SELECTOR, "#uploads-receipts .upload") == []

    # Resume on a reload: the step shows what is stored; delete one.
    browser.refresh()
    step(browser, "documents")
    wait_files(browser, "passport", 1)
    wait_files(browser, "policy", 1)
    wait_files(browser, "receipts", 1)
    css(browser, "#files-policy .doc-file__remove").click()
    wait_files(browser, "policy", 0)

    # Everything required, then «Отправить документы».
    send_documents(browser, step)
    assert "В работе" in css(browser, "#claim-status").text
