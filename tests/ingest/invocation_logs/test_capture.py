"""Opt-in prompt capture: text is stored only when asked, and never with its PII."""

from __future__ import annotations

from datetime import datetime

import factories as F

from ingest.invocation_logs import capture

PII = {
    "email": "jane.doe@example.com",
    "card": "4111 1111 1111 1111",
    "aws_key": "AKIAIOSFODNN7EXAMPLE",
    "ssn": "123-45-6789",
}


def pii_record(**overrides: object) -> dict:
    text = (f"Refund card {PII['card']} for {PII['email']}, SSN {PII['ssn']}; "
            f"deploy key {PII['aws_key']}")  # fmt: skip
    rec = F.converse(
        input={"inputBodyJson": {"messages": [{"role": "user", "content": [{"text": text}]}]}},
        output={"outputBodyJson": {"output": {"message": {"content": [
            {"text": f"Done. I emailed {PII['email']}."}]}}}},
    )  # fmt: skip
    return F.deep_merge(rec, dict(overrides))


def test_texts_come_from_request_and_response_bodies():
    prompt, response = capture.texts(F.converse())
    assert prompt == "Summarise this" and response == "Here it is"
    invoke = F.invoke_model()
    assert capture.texts(invoke) != (None, None)


def test_captured_text_is_redacted_and_replaced_on_reread(warehouse, tmp_path):
    ts = datetime(2026, 11, 2, 10)
    recs = [pii_record(), F.converse()]
    path = F.land(tmp_path / "landing", recs, ts)
    assert capture.capture(warehouse, [(path, "s3://b/k")]) == 2
    assert capture.capture(warehouse, [(path, "s3://b/k")]) == 2  # idempotent
    rows = warehouse.execute(
        "SELECT request_id, prompt, response, redactions FROM invocation_text ORDER BY ALL"
    ).fetchall()
    assert len(rows) == 2
    stored = " ".join(str(c) for row in rows for c in row)
    for secret in PII.values():
        assert secret not in stored
    pii_row = next(r for r in rows if r[0] == recs[0]["requestId"])
    assert "[EMAIL]" in pii_row[1] and "[CARD]" in pii_row[1] and "[EMAIL]" in pii_row[2]
    assert pii_row[3] >= 5


def test_the_ingester_captures_only_when_asked(tmp_path):
    from base.settings import Settings
    from ingest.invocation_logs import ingester as invocation_logs
    from warehouse.db import connect

    root = tmp_path / "landing"
    F.land(root, [pii_record(), F.converse()], datetime(2026, 11, 2, 10))
    zone = {"landing_zones": [{"uri": str(root)}]}
    for capture_text, expected in ((False, 0), (True, 2)):
        con = connect(tmp_path / f"{capture_text}.duckdb")
        cfg = Settings(resolve_profiles_with_api=False, invocation_logs=zone,
                       capture_text=capture_text)  # fmt: skip
        assert invocation_logs.run(con, cfg).records == 2
        assert con.execute("SELECT count(*) FROM invocation_text").fetchone() == (expected,)
        text = " ".join(str(r) for r in con.execute("SELECT * FROM invocation_text").fetchall())
        assert PII["email"] not in text and PII["card"] not in text
        con.close()
        if not capture_text:  # no text anywhere in the file, not just not in the table
            assert PII["email"].encode() not in (tmp_path / "False.duckdb").read_bytes()
