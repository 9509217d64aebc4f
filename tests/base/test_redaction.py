"""PII and secret redaction: a corpus that must vanish, look-alikes that must stay, properties."""

from __future__ import annotations

import json
import re

import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from base import redaction as R
from base.redaction import redact, redact_many, redact_with_counts

# (text, the secrets in it, the placeholder each becomes). Values are realistic but fake:
# test card numbers, the IBAN examples of the banks' own documentation, AWS's EXAMPLE keys.
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUgRG9lIiwi"
    "aWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PII: list[tuple[str, list[str], str]] = [
    ("Contact me at jane.doe@example.com.", ["jane.doe@example.com"], "EMAIL"),
    ("mail: <J.Smith+billing@sub.mail.co.uk>", ["J.Smith+billing@sub.mail.co.uk"], "EMAIL"),
    ('{"user": {"email": "ops-team@acme.io", "id": 7}}', ["ops-team@acme.io"], "EMAIL"),
    ("Schreiben Sie an jürgen.müller@beispiel.de!", ["jürgen.müller@beispiel.de"], "EMAIL"),
    ("(cc:ana@empresa.com.br)", ["ana@empresa.com.br"], "EMAIL"),
    ("user=bob@example.org&x=1", ["bob@example.org"], "EMAIL"),
    ("Call me on +44 20 7946 0958 tomorrow", ["+44 20 7946 0958", "7946 0958"], "PHONE"),
    ("US office: (415) 555-0132, ext 12", ["(415) 555-0132", "555-0132"], "PHONE"),
    ("cell 415-555-0199.", ["415-555-0199"], "PHONE"),
    ("Tel.: +49 (0)30 1234 5678", ["1234 5678"], "PHONE"),
    ("Bureau: 01 42 68 53 00 (Paris)", ["01 42 68 53 00"], "PHONE"),
    ("Ring 030 1234 5678 or +33 6 12 34 56 78", ["030 1234 5678", "6 12 34 56 78"], "PHONE"),
    ("mobile: 0612345678", ["0612345678"], "PHONE"),
    ("WhatsApp +919876543210 anytime", ["+919876543210", "9876543210"], "PHONE"),
    ("Visa 4111 1111 1111 1111 exp 12/29", ["4111 1111 1111 1111"], "CARD"),
    ('{"card": "5555555555554444", "cvc": "123"}', ["5555555555554444"], "CARD"),
    ("amex 3782-822463-10005;", ["3782-822463-10005", "822463"], "CARD"),
    ("card=4012-8888-8888-1881\n", ["4012-8888-8888-1881"], "CARD"),
    ("Discover:6011111111111117", ["6011111111111117"], "CARD"),
    ("pay with 2223 0031 2200 3222 (mastercard)", ["2223 0031 2200 3222"], "CARD"),
    ("IBAN: GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32", "5698 7654"], "IBAN"),
    ("Überweisung an DE89370400440532013000 bitte", ["DE89370400440532013000"], "IBAN"),
    ("iban=FR1420041010050500013M02606,", ["FR1420041010050500013M02606"], "IBAN"),
    ("NL91ABNA0417164300 (Amsterdam)", ["NL91ABNA0417164300"], "IBAN"),
    ("My SSN is 123-45-6789.", ["123-45-6789"], "SSN"),
    ("ssn: 078051120", ["078051120"], "SSN"),
    ("SSN 536 22 1234 on file", ["536 22 1234"], "SSN"),
    ("NI number AB 12 34 56 C", ["AB 12 34 56 C"], "NATIONAL_ID"),
    ("client ip 203.0.113.42 blocked", ["203.0.113.42"], "IP"),
    ('{"sourceIPAddress": "10.0.12.7"}', ["10.0.12.7"], "IP"),
    ("ssh admin@[2001:db8:85a3::8a2e:370:7334]:22", ["2001:db8:85a3::8a2e:370:7334"], "IP"),
    ("link-local fe80::1ff:fe23:4567:890a%eth0.", ["fe80::1ff:fe23:4567:890a"], "IP"),
    ("mapped ::ffff:192.0.2.128 here", ["192.0.2.128"], "IP"),
    ("export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", ["AKIAIOSFODNN7EXAMPLE"], "AWS_ACCESS_KEY"),
    ('"AccessKeyId": "ASIAJEXAMPLEXEG2JICE"', ["ASIAJEXAMPLEXEG2JICE"], "AWS_ACCESS_KEY"),
    (f"aws_secret_access_key = {SECRET}", [SECRET], "AWS_SECRET_KEY"),
    (f'{{"SecretAccessKey": "{SECRET}"}}', [SECRET], "AWS_SECRET_KEY"),
    (
        "the key is 9drTJvcXLB89EXAMPLELB8923FB892xMFI+zB3Zq ok",
        ["89EXAMPLELB8923FB892"],
        "AWS_SECRET_KEY",
    ),
    ("Authorization: Bearer sk_9f8e7d6c5b4a3f2e1d0c", ["sk_9f8e7d6c5b4a3f2e1d0c"], "TOKEN"),
    (f"headers = {{'Authorization': 'Bearer {JWT}'}}", [JWT, JWT.split(".")[1]], "TOKEN"),
    (f"token={JWT}&next=/", [JWT], "TOKEN"),
    (
        "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZDEyMw=='",
        ["dXNlcjpwYXNzd29yZDEyMw"],
        "TOKEN",
    ),
    (
        "GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyz",
        ["ghp_1234567890abcdefghij"],
        "TOKEN",
    ),
    ('client = OpenAI(api_key="sk-proj-Abc123Def456Ghi789Jkl0")', ["Abc123Def456Ghi789"], "TOKEN"),
    ("db password: S3cr3t!Passw0rd", ["S3cr3t!Passw0rd"], "TOKEN"),
    ("x-api-key: 9a8b7c6d5e4f3a2b1c0d", ["9a8b7c6d5e4f3a2b1c0d"], "TOKEN"),
]
MULTI = f"""Hi team,

please refund Jane (jane.roe@example.net, +1 415 555 0100). Card on file: 4242424242424242.
Wire instead to IBAN CH93 0076 2011 6238 5295 7 if that fails; her SSN is 219-09-9999.
Her laptop was 192.168.10.24 — creds AKIAI44QH8DHBEXAMPLE / {SECRET}.
"""
MULTI_SECRETS = [
    "jane.roe@example.net",
    "415 555 0100",
    "4242424242424242",
    "CH93 0076 2011 6238 5295 7",
    "219-09-9999",
    "192.168.10.24",
    "AKIAI44QH8DHBEXAMPLE",
    SECRET,
]

LOOKALIKES = [
    "Order #112-4567890-1234567 shipped; PO 4500012345, INV-0042, ORD-2024-000123.",
    "Ticket 4111111111111112 is not a card (Luhn fails); nor 1234567890123456.",
    "ts 2024-06-20T12:30:45.123Z, 2024-06-20 12:30:45, 20/06/2024, 06.20.2024, 1718841600000",
    "modelId anthropic.claude-3-5-sonnet-20240620-v1:0 and meta.llama3-1-70b-instruct-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
    "arn:aws:iam::123456789012:role/genai-lens-reader and arn:aws:s3:::my-bucket/logs/*",
    "requestId 123e4567-e89b-12d3-a456-426614174000, 12345678-1234-4234-9234-123456789012",
    "version 1.2.3, v2.10.0-rc.1, Python 3.11.7, boto3 1.40.21, Chrome/120.0.6099.109",
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709, sha256 e3b0c44298fc1c149afbf4c8996fb924"
    "27ae41e4649b934ca495991b7852b855",
    '{"inputTokens": 1532, "outputTokens": 2048, "latencyMs": 912, "score": 0.4532015112830366}',
    "embedding [0.0123456789012345, -0.5421234567891234, 0.6011111111111117]",
    "Price USD 3.00 per 1M tokens, 15% off, total 1,234,567.89; p99 1200 ms.",
    "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2025/06/02/03/x.json.gz",
    "s3://my-landing-bucket/bedrock/AWSLogs/ and log group /aws/bedrock/invocations",
    "at 12:30:45 UTC; std::vector<int> v; Foo::bar(); MAC 00:1A:2B:3C:4D:5E",
    "listen on 0.0.0.0:8501 or 127.0.0.1 or [::1]; CIDR masks /16 and /24",
    "Reset your password: click the link. The secret: patience.",
    "The bearer of bad news; Basic authentication is deprecated; use a bearer token.",
    'api_key = os.environ["OPENAI_API_KEY"]; password = getenv("DB_PASSWORD")',
    "Send a message to @channel or @here; decorators like @app.route('/x') stay.",
    "ISBN 978-0-13-110362-7, zip 94103-1234, call 911, ext. 4021, room 0101",
    "Colors #ff0000 and #00ff00; base64 aGVsbG8=; hex 0xDEADBEEF.",
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "account 111122223333 in us-west-2, 3 invocations, 0 errors",
    "Fibonacci: 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987",
    "SKU AB-1234-XY; part no. 0800-555; build 20240620.3; commit 9fceb02",
]


@pytest.mark.parametrize(("text", "secrets", "kind"), PII, ids=[p[2] for p in PII])
def test_each_secret_is_gone_and_typed(text: str, secrets: list[str], kind: str) -> None:
    out, counts = redact_with_counts(text)
    for secret in secrets:
        assert secret not in out
    assert f"[{kind}]" in out
    assert counts[kind] >= 1


def test_several_kinds_in_one_message() -> None:
    out, counts = redact_with_counts(MULTI)
    for secret in MULTI_SECRETS:
        assert secret not in out
    assert out.startswith("Hi team,\n\nplease refund Jane ([EMAIL], [PHONE]).")
    assert set(counts) >= {"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "AWS_ACCESS_KEY"}


def test_secrets_inside_a_json_body_and_a_code_snippet() -> None:
    body = json.dumps(
        {
            "messages": [{"role": "user", "content": [{"text": MULTI}]}],
            "system": "reply to 415-555-0199",
        }
    )
    out = redact(body)
    for secret in [*MULTI_SECRETS[:3], "415-555-0199"]:
        assert secret not in out
    assert json.loads(out)["system"] == "reply to [PHONE]"
    code = f'import boto3\ns3 = boto3.client("s3", aws_secret_access_key="{SECRET}")\n'
    assert redact(code) == (
        'import boto3\ns3 = boto3.client("s3", aws_secret_access_key="[AWS_SECRET_KEY]")\n'
    )


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_counts_count_each_value() -> None:
    _, counts = redact_with_counts("a@b.io, c@d.io and 10.0.0.1")
    assert counts == {"EMAIL": 2, "IP": 1}


def test_a_false_start_does_not_hide_a_real_match() -> None:
    # "AB12 …" is rejected as an IBAN; the real one starting inside it must still be found.
    assert redact("ref AB12 GB82 WEST 1234 5698 7654 32") == "ref AB12 [IBAN]"
    assert redact("x 12 4111 1111 1111 1111 y") == "x 12 [CARD] y"


def test_redact_many_matches_redact_and_keeps_nulls() -> None:
    texts = [text for text, _, _ in PII] + LOOKALIKES + [MULTI, "", None]
    assert redact_many(texts) == [None if t is None else redact(t) for t in texts]


def test_prefilters_and_hints_never_skip_a_detector_that_would_match() -> None:
    """The batch path skips rows by prefilter, the single path by hint: both must be supersets."""
    texts = [text for text, _, _ in PII] + [MULTI]
    flags = pl.Series(texts).to_frame("t")
    for det in R.DETECTORS:
        matched = flags.get_column("t").str.contains(det.prefilter).to_list()
        for text, flagged in zip(texts, matched, strict=True):
            if list(det.find(text)):
                assert flagged, (det.kind, det.prefilter, text)
                assert det.hint(text), (det.kind, text)


def test_duckdb_function_redacts_a_column() -> None:
    con = duckdb.connect()
    R.register(con)
    rows = con.execute(
        "SELECT redact(t) FROM (VALUES ('mail a@b.io'), (NULL), ('fine')) v(t)"
    ).fetchall()
    assert rows == [("mail [EMAIL]",), (None,), ("fine",)]


# --- properties --------------------------------------------------------------------------

BRANDS = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15)]
BRANDS += [("37", 15), ("6011", 16), ("65", 16), ("3528", 16), ("36", 14), ("62", 19)]


def luhn_complete(partial: str) -> str:
    for check in "0123456789":
        if R.luhn_valid(partial + check):
            return partial + check
    raise AssertionError("one check digit always completes a Luhn number")


@st.composite
def cards(draw: st.DrawFn) -> str:
    prefix, length = draw(st.sampled_from(BRANDS))
    body = draw(st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length))
    number = luhn_complete(prefix + body[: length - len(prefix) - 1])
    sep = draw(st.sampled_from(["", " ", "-"]))
    if sep and length == 16:
        return sep.join(number[i : i + 4] for i in range(0, 16, 4))
    if sep and length == 15:
        return sep.join([number[:4], number[4:10], number[10:]])
    return number


BEFORE = st.sampled_from([" ", "\n", "\t", ": ", " (", ' "', "=", ", ", " card "])
AFTER = st.sampled_from([" ", "\n", ".", ",", ")", '"', "; ", ". Thanks"])


@given(st.text(max_size=40), BEFORE, cards(), AFTER, st.text(max_size=40))
def test_generated_cards_never_survive(
    head: str, before: str, card: str, after: str, tail: str
) -> None:
    out = redact(head + before + card + after + tail)
    assert card not in out
    assert re.sub(r"\D", "", card) not in re.sub(r"\D", "", out)


@given(st.text(max_size=40), BEFORE, st.emails(), AFTER, st.text(max_size=40))
def test_generated_emails_never_survive(
    head: str, before: str, email: str, after: str, tail: str
) -> None:
    out = redact(head + before + email + after + tail)
    assert email not in out


@given(st.lists(st.one_of(st.none(), st.text(max_size=60), cards(), st.emails()), max_size=8))
def test_batch_and_single_paths_agree(texts: list[str | None]) -> None:
    assert redact_many(texts) == [None if t is None else redact(t) for t in texts]


NOISY = st.text(st.sampled_from(list("0123456789 -.:@abAB+()/=_xX\n")), max_size=60)


@given(st.one_of(NOISY, st.text(max_size=60)))
def test_redaction_is_idempotent(text: str) -> None:
    """A placeholder never creates a new match: redacting twice changes nothing more."""
    once = redact(text)
    assert redact(once) == once
