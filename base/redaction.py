"""PII and secret redaction for prompt and response text stored under `capture_text = true`.

Each detector finds candidates with a regular expression and keeps only those that pass a
real check (Luhn for cards, mod-97 for IBANs, SSN area/group/serial rules, `ipaddress` for IP
addresses, entropy for bare AWS secret keys), so order numbers, timestamps, version strings,
model ids, ARNs and UUIDs survive. Detectors run in a fixed order, each on the output of the
one before: a placeholder such as `[CARD]` holds no digits, so no later detector can match it.

Redaction is a best effort, not a guarantee: a secret in a form no detector knows (a password
spelt out in prose, a name, an address) passes through. That is why storing text is opt-in.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import duckdb
import polars as pl
import pyarrow as pa
from duckdb import sqltypes

# An acceptor gets a candidate match and returns the span to replace, or None to keep it.
Span = tuple[int, int]
Accept = Callable[[re.Match[str]], Span | None]
Hint = Callable[[str], bool]


@dataclass(frozen=True)
class Detector:
    kind: str
    find: Callable[[str], Iterable[Span]]
    hint: Hint  # a cheap test on one text (the `redact` path): False skips the detector
    prefilter: str  # the same for a whole batch at once, in polars (the `redact_many` path)


def whole(m: re.Match[str]) -> Span:
    return m.span()


def group1(m: re.Match[str]) -> Span:
    return m.span(1)


# --- tokens and keys ------------------------------------------------------------------------

_JWT = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?![\w-])")
_BEARER = re.compile(r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/-]{12,}=*)")
_VENDOR_TOKEN = re.compile(
    r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"
    r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})"
    r"(?![\w-])"
)
_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_SECRET_KEY_CONTEXT = re.compile(
    r"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_?secret)[\"']?\s*[:=]?\s*"
    r"[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_SECRET_KEY_BARE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_SECRET_WORDS = (
    r"password|passwd|pwd|secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token"
    r"|refresh[_-]?token|client[_-]?secret|private[_-]?key|secret[_-]?key"
)
_ASSIGNED_SECRET = re.compile(
    rf"\b(?:{_SECRET_WORDS})\b[\"']?\s*[:=]\s*[\"']?([^\s\"',;\[\]{{}}()<>`]{{8,}})", re.I
)
_CODE_REFERENCE = re.compile(r"^(?:os\.|process\.env|\$|%|getenv|env\.|self\.|settings\.)")


def bearer(m: re.Match[str]) -> Span | None:
    return m.span(1) if any(c.isdigit() for c in m.group(1)) else None


def entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def bare_secret_key(m: re.Match[str]) -> Span | None:
    """40 base64 characters that look random: mixed case and digits, not hex, not a path."""
    s = m.group(0)
    mixed = any(c.isupper() for c in s) and any(c.islower() for c in s)
    if not (mixed and any(c.isdigit() for c in s)) or s.count("/") > 3:
        return None
    return m.span() if entropy(s) >= 4.2 else None


def assigned_secret(m: re.Match[str]) -> Span | None:
    """A value, not a code reference (`os.environ[...]`) or a word of prose (`secret: patience.`):
    it mixes two of lower case, upper case, digits and symbols."""
    value = m.group(1).rstrip(".,!?:")
    classes = (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    mixed = sum(any(f(c) for c in value) for f in classes) >= 2
    if not mixed or len(value) < 8 or _CODE_REFERENCE.match(value):
        return None
    return m.start(1), m.start(1) + len(value)


# --- contact and identity -------------------------------------------------------------------

# The local part takes RFC 5322's atext (quote, slash, equals and all).
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL = re.compile(
    rf"(?<!{_LOCAL}){_LOCAL}+@(?:[\w-]+\.)+(?:[^\W\d_]{{2,}}|[Xx][Nn]--[A-Za-z0-9-]+)(?![\w-])"
)


def email(m: re.Match[str]) -> Span:
    """Quotes before the address are usually the string's, not the address's: `'a@b.io'`."""
    quotes = len(m[0]) - len(m[0].lstrip("'"))
    return (m.start() + quotes, m.end()) if m[0][quotes] != "@" else m.span()


IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def iban_valid(code: str) -> bool:
    """ISO 13616: the right length for its country and mod-97 of the rearranged number is 1."""
    if IBAN_LENGTHS.get(code[:2]) != len(code) or not code[2:4].isdigit():
        return False
    digits = "".join(str(int(c, 36)) for c in code[4:] + code[:4])
    return int(digits) % 97 == 1


def iban(m: re.Match[str]) -> Span | None:
    """The candidate may run into the next word: cut it at the country's IBAN length."""
    text, want = m.group(0), IBAN_LENGTHS.get(m.group(0)[:2])
    if want is None:
        return None
    seen = 0
    for i, c in enumerate(text):
        seen += c != " "
        if seen == want:
            code = text[: i + 1].replace(" ", "")
            end = m.start() + i + 1
            rest = m.string[end : end + 1]
            return (m.start(), end) if iban_valid(code) and not rest.isalnum() else None
    return None


# Digits in groups joined by single spaces or dashes (possessive: the run is never cut short).
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){11,}+")
_GROUP = re.compile(r"\d+")
# How cards are written: unbroken, 4-4-4-4(-3), or Amex/Diners 4-6-5 and 4-6-4.
_CARD_SHAPES = re.compile(
    r"\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5}"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def card_valid(digits: str) -> bool:
    """13-19 digits, an issuer prefix of the card networks (2, 3, 4, 5, 6) and the Luhn sum."""
    if not 13 <= len(digits) <= 19:
        return False
    issuer = digits[0] in "3456" or 2200 <= int(digits[:4]) <= 2720
    return issuer and luhn_valid(digits)


def card_spans(text: str) -> Iterator[Span]:
    """Cards inside runs of digit groups: `12 4111 1111 1111 1111` holds one after `12`.

    Each run is tried from each group on, longest first, against the shapes cards are written
    in, so a UUID's `12345678-1234-…` or a list of numbers is not read as one. A card is not
    glued to a word, a hex id (`…cc-5902-2231-3381-2abc`) or a decimal point."""
    for run in _DIGIT_RUN.finditer(text):
        groups = [(run.start() + g.start(), run.start() + g.end()) for g in _GROUP.finditer(run[0])]
        i = 0
        while i < len(groups):
            start = groups[i][0]
            glued = start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._")
            for j in range(len(groups) - 1, i - 1, -1):
                end = groups[j][1]
                if glued or (end < len(text) and (text[end].isalnum() or text[end] == "_")):
                    continue
                piece = text[start:end]
                if _CARD_SHAPES.fullmatch(piece) and card_valid(re.sub(r"\D", "", piece)):
                    yield start, end
                    i = j
                    break
            i += 1


_SSN = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
# Group 2 (the separator) is empty here, so that `ssn()` reads both patterns alike.
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|social security(?: number| no\.?)?)[^\w\n]{0,5}(\d{3})()(\d{2})(\d{4})\b"
)
_NINO = re.compile(
    r"(?<![\w-])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])"
)


def ssn(m: re.Match[str]) -> Span | None:
    """US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000."""
    area, group, serial = m.group(1), m.group(3), m.group(4)
    if area in {"000", "666"} or area[0] == "9" or group == "00" or serial == "0000":
        return None
    return (m.start(1), m.end(4))


# --- network --------------------------------------------------------------------------------

_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})"
    r"(?:%[0-9A-Za-z.]+)?(?![\w:]|\.\d)"
)
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w]|\.\d)"
)


def ip_address(m: re.Match[str]) -> Span | None:
    """A real address; `::`, `::1`, `0.0.0.0` and `127.0.0.1` identify no one and are kept."""
    text = m.group(0)
    if not any(c.isdigit() for c in text):
        return None  # `dead::beef`, `ab::cd` (C++ and Rust paths) are not worth the risk
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    return None if addr.is_loopback or addr.is_unspecified else m.span()


# --- phones ---------------------------------------------------------------------------------

_PHONE_INTL = re.compile(r"(?<![\w+])\+\d[\d ().-]{6,22}\d(?!\d)")
_PHONE_US = re.compile(
    r"(?<![\w./:+-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}(?![\w-]|\.\d)"
)
_PHONE_NATIONAL = re.compile(
    r"(?<![\w./:+-])(?:0\d{1,4}|\(0\d{1,4}\))(?:[ .-]?\d{2,4}){2,5}(?![\w-]|\.\d)"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|fax|whatsapp)\b[^\w\n]{0,5}"
    r"(?:no\.?|number|nr\.?)?[^\w\n]{0,3}(\+?\d[\d ()./-]{5,20}\d)(?!\d)"
)
_DATE = re.compile(r"^(?:0[1-9]|[12]\d|3[01])[./-](?:0[1-9]|1[0-2])[./-](?:19|20)\d\d")
_SEPARATORS = re.compile(r"[ ().-]")


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def phone_intl(m: re.Match[str]) -> Span | None:
    """E.164 has at most 15 digits: a longer run keeps its leading groups that fit."""
    text = m.group(0)
    if "  " in text or ".." in text:
        return None
    cut = len(text)
    while _digits(text[:cut]) > 15:
        seps = [s.start() for s in _SEPARATORS.finditer(text, 0, cut)]
        if not seps:
            return None
        cut = seps[-1]
    text = text[:cut].rstrip(" (.-")
    return (m.start(), m.start() + len(text)) if _digits(text) >= 8 else None


def phone_national(m: re.Match[str]) -> Span | None:
    text = m.group(0)
    if _DATE.match(text.strip("()")) or not 9 <= _digits(text) <= 13:
        return None
    return m.span()


def phone_context(m: re.Match[str]) -> Span | None:
    return m.span(1) if 7 <= _digits(m.group(1)) <= 15 else None


def _has_any(*needles: str) -> Hint:
    return lambda text: any(n in text for n in needles)


def _has_any_folded(*needles: str) -> Hint:
    """For case-insensitive patterns: casefold, as `re.I` also matches the long s and Kelvin K."""

    def hint(text: str) -> bool:
        folded = text.casefold()
        return any(n in folded for n in needles)

    return hint


def _has(pattern: str) -> Hint:
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None


_has_digit = _has(r"\d")


def regex(
    kind: str,
    pattern: re.Pattern[str],
    prefilter: str,
    check: Accept = whole,
    hint: Hint = _has_digit,
) -> Detector:
    """A detector whose candidates a regular expression finds and `check` accepts or not."""

    def find(text: str) -> Iterator[Span]:
        # A rejected candidate is retried one character on, so a false start
        # (`AB12 GB82 WEST …`) cannot hide a real match that begins inside it.
        pos = 0
        while m := pattern.search(text, pos):
            span = check(m)
            if span is None:
                pos = m.start() + 1
                continue
            yield span
            pos = max(span[1], m.start() + 1)

    return Detector(kind, find, hint, prefilter)


# Prefilters (Rust regex syntax, for the batch path) drop the lookarounds, so each matches
# wherever its detector could: a lookbehind becomes `(?:^|[^…])` over ASCII classes only, as
# Rust's \w is wider than Python's. Tests hold every prefilter to that on the whole corpus.
_START = "(?:^|[^A-Za-z0-9_{}])"

# In order: tokens before the keys and numbers inside them, e-mail before phones, IBANs and
# cards before the shorter digit patterns (SSN, IP, phone) that could match part of them.
DETECTORS: tuple[Detector, ...] = (
    regex("TOKEN", _JWT, r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.", hint=_has_any("eyJ")),
    regex(
        "TOKEN",
        _BEARER,
        r"(?i)(?:bearer|basic)\s+[A-Za-z0-9._~+/-]{12}",
        bearer,
        _has_any_folded("bearer", "basic"),
    ),
    regex(
        "TOKEN",
        _VENDOR_TOKEN,
        r"gh[pousr]_|github_pat_|xox[abposr]-|sk-|[rs]k_(?:live|test)_|AIza|glpat-",
        hint=_has(r"gh[pousr]_|github_pat_|xox|sk[-_]|rk_|AIza|glpat"),
    ),
    regex(
        "AWS_ACCESS_KEY",
        _ACCESS_KEY,
        r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
        hint=_has_any("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    regex(
        "AWS_SECRET_KEY",
        _SECRET_KEY_CONTEXT,
        r"(?i)aws_?secret|secret_?access_?key",
        group1,
        _has_any_folded("secret"),
    ),
    regex("AWS_SECRET_KEY", _SECRET_KEY_BARE, r"[A-Za-z0-9/+]{40}", bare_secret_key),
    regex(
        "TOKEN",
        _ASSIGNED_SECRET,
        rf"(?i)(?:{_SECRET_WORDS})[\"']?\s*[:=]",
        assigned_secret,
        _has_any_folded("pass", "pwd", "secret", "key", "token"),
    ),
    regex("EMAIL", _EMAIL, _LOCAL + r"@[\w-]+\.", email, _has_any("@")),
    regex("IBAN", _IBAN, r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11}", iban),
    Detector("CARD", card_spans, _has_digit, r"(?:^|[^\d.])\d(?:[ -]?\d){12}"),
    regex(
        "SSN",
        _SSN_CONTEXT,
        r"(?i)ssn|social security",
        ssn,
        _has_any_folded("ssn", "social security"),
    ),
    regex("SSN", _SSN, _START.format("-") + r"\d{3}[- ]\d{2}[- ]\d{4}", ssn),
    regex("NATIONAL_ID", _NINO, r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]"),
    regex(
        "IP",
        _IPV6,
        _START.format(":.") + r"(?:[0-9A-Fa-f]{0,4}:){2}",
        ip_address,
        _has(r"\d:|:\d|::"),
    ),
    regex("IP", _IPV4, _START.format(".") + r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}", ip_address),
    regex(
        "PHONE",
        _PHONE_CONTEXT,
        r"(?i)(?:phone|tel|mobile|cell|fax|whatsapp)",
        phone_context,
        _has_any_folded("phone", "tel", "mobile", "cell", "fax", "whatsapp"),
    ),
    regex("PHONE", _PHONE_INTL, r"\+\d[\d ().-]{6}", phone_intl, _has_any("+")),
    regex(
        "PHONE",
        _PHONE_US,
        _START.format("./:+-") + r"(?:\d{3}[ .-]|\(\d{3}\) ?)\d{3}[ .-]\d{4}",
        hint=_has(r"\d{3}[ .-]\d{3}"),
    ),
    regex(
        "PHONE",
        _PHONE_NATIONAL,
        _START.format("./:+-") + r"\(?0\d{1,4}\)?[ .-]?\d{2}",
        phone_national,
        _has_any("0"),
    ),
)
KINDS = tuple(dict.fromkeys(d.kind for d in DETECTORS))


def _replace(text: str, found: Iterable[Span], kind: str, counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    for start, end in found:
        out += [text[last:start], f"[{kind}]"]
        last = end
        counts[kind] += 1
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def redact_with_counts(text: str) -> tuple[str, Counter[str]]:
    """The text with every detected value replaced by `[KIND]`, and how many of each kind."""
    counts: Counter[str] = Counter()
    for det in DETECTORS:
        if det.hint(text):
            text = _replace(text, det.find(text), det.kind, counts)
    return text, counts


def redact(text: str) -> str:
    return redact_with_counts(text)[0]


def redact_many(texts: Sequence[str | None] | pa.Array | pa.ChunkedArray) -> list[str | None]:
    """A batch, as the ingester holds it; None (no body) stays None.

    Polars runs every detector's prefilter over the whole batch in Rust, on all cores; Python
    then runs a detector only on the rows its prefilter flagged (few, for most detectors).
    """
    column = pl.Series("text", texts, dtype=pl.String)
    flagged = column.to_frame().select(
        pl.col("text").str.contains(d.prefilter).fill_null(False).alias(str(i))
        for i, d in enumerate(DETECTORS)
    )
    out: list[str | None] = column.to_list()
    counts: Counter[str] = Counter()
    for i, det in enumerate(DETECTORS):
        for row in flagged.get_column(str(i)).arg_true().to_list():
            text = out[row]
            assert text is not None
            out[row] = _replace(text, det.find(text), det.kind, counts)
    return out


def _redact_arrow(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    return pa.array(redact_many(texts), type=pa.string())


def register(con: duckdb.DuckDBPyConnection, name: str = "redact") -> None:
    """Make `redact(text)` callable in SQL; DuckDB hands it whole vectors (Arrow), not rows."""
    # duckdb's stubs type a UDF's result as a row value; an arrow UDF returns a pyarrow Array.
    con.create_function(  # type: ignore[call-overload]
        name,
        _redact_arrow,
        [sqltypes.VARCHAR],
        sqltypes.VARCHAR,
        type="arrow",
        null_handling="special",
    )
