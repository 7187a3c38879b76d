#!/usr/bin/env python3
"""Runs ../shared/bench/loadgen.py against clpr with payloads clpr accepts.

loadgen publishes `{"type":…,"session_token":…,"published_at_ns":…,"plan":{…}}`, which is not a claim plan: clpr
validates every message against the plan schema (docs/claim-plan.md) and would answer `claim_plan_error`. This
wrapper changes only the payload and how the event's timestamp is read back, nothing in the measurement:

* each PUBLISH carries a valid plan of about the same size (~1.5 KB) for the claim behind the token (claim id and
  submission id read from clpr's SQLite file, `--clpr-db`), with the publish timestamp in `source`
  (`bench:<ns>`, an informational field clpr passes through);
* on receipt, `published_at_ns` is taken from `source` before loadgen's own bookkeeping runs.

Usage: clpr_loadgen.py --bench-dir /tmp/sse-bench --clpr-db DATA/clpr.sqlite3|postgres://… -- <loadgen.py arguments>
"""

import json
import sqlite3
import subprocess
import sys


CLAIMS_SQL = "SELECT session_token, id, submission_id FROM clpr_claims WHERE submission_id IS NOT NULL"


def read_claims(database):
    """token -> (claim id, submission id), from clpr's SQLite file or, given a postgres:// URL, through psql."""
    if database.startswith(("postgres://", "postgresql://")):
        out = subprocess.run(
            ["psql", database, "-X", "-A", "-t", "-F", "\t", "-c", CLAIMS_SQL],
            check=True, capture_output=True, text=True,
        ).stdout
        rows = (line.split("\t") for line in out.splitlines() if line)
        return {token: (claim_id, submission_id) for token, claim_id, submission_id in rows}
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return {token: (claim_id, submission_id) for token, claim_id, submission_id in db.execute(CLAIMS_SQL)}
    finally:
        db.close()


def main():
    argv = sys.argv[1:]
    split = argv.index("--")
    own, rest = argv[:split], argv[split + 1 :]
    options = dict(zip(own[::2], own[1::2]))
    sys.path.insert(0, options["--bench-dir"])
    import loadgen  # noqa: E402  (from the bench folder)

    claims = read_claims(options["--clpr-db"])
    filler = "Проверьте данные и подтвердите заявление. " * 18

    def make_payload(plan_json, token, seq, ts_ns):
        claim_id, submission_id = claims.get(token, ("unknown", "sub_unknown"))
        plan = {
            "version": 1,
            "session_token": token,
            "claim_id": claim_id,
            "submission_id": submission_id,
            "type_code": "travel",
            "title": "Заявление о страховом случае в поездке",
            "summary": filler,
            "fields": [{"key": f"field_{i}", "label": f"Поле {i}", "value": f"значение {seq}"} for i in range(8)],
            "required_documents": [
                {"code": "passport", "title": "Паспорт: страница с фото", "required": True},
                {"code": "medical_report", "title": "Медицинское заключение", "required": True},
            ],
            "next_steps": ["Подтвердите заявление.", "Загрузите документы из списка."],
            "source": f"bench:{ts_ns}",
        }
        return json.dumps(plan, ensure_ascii=False, separators=(",", ":"))

    original_on_event = loadgen.Run.on_event

    def on_event(self, conn, data):
        try:
            message = json.loads(data)
            source = message.get("source", "")
            if "published_at_ns" not in message and source.startswith("bench:"):
                message["published_at_ns"] = int(source[6:])
                data = json.dumps(message, separators=(",", ":")).encode()
        except (ValueError, TypeError, AttributeError):
            pass
        return original_on_event(self, conn, data)

    loadgen.make_payload = make_payload
    loadgen.Run.on_event = on_event
    sys.exit(loadgen.main(rest))


if __name__ == "__main__":
    main()
