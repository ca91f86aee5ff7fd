"""Public ids: a type prefix plus a time-ordered random part, e.g. `pak_01jq3v9x4m2k8e7w5r6t0y1z2a`.

The prefix tells a reader what an id points at and follows the `@cynco/billing` client's docs:
`mer` merchant, `pak` API key, `pcm` customer, `psub` subscription, `pprod` product, `ppri` price,
`pver` product version, `pcpn` coupon, `pwh` webhook endpoint, `pent` entity, `pbal` balance,
`paudit` audit event, `prw` reward program, `prc` referral code, `evt` webhook event, `lock`
balance lock, `pinv` invoice. The first 10 characters of the random part are the creation time in
milliseconds, so new rows land at the end of their index as with a sequence, without a sequence
shared across merchants (DESIGN.md, Citus). The remaining 80 bits are random.
"""

import base64
import re
import secrets
import time

# The one rule for every string the API takes as an identifier, slug, code or name — in a body,
# a query string or a header: no control or invisible formatting characters (C0, C1, soft
# hyphen, zero-width and bidirectional marks, line and paragraph separators, BOM). The same
# pattern is the `pattern` of those strings in the OpenAPI document; written with \uXXXX
# escapes so Python, JavaScript and the document's validators read it alike.
FORBIDDEN_CHARACTERS = (
    r"\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb"
)
IDENTIFIER_PATTERN = rf"^[^{FORBIDDEN_CHARACTERS}]*$"
# An absolute http(s) URL with a host: what success, cancel and webhook URLs must be. Hosts are
# not looked up here (webhook endpoints are checked against private addresses elsewhere).
HTTP_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@{FORBIDDEN_CHARACTERS}]+"
    rf"([/?#][^\s{FORBIDDEN_CHARACTERS}]*)?$"
)
# Free text (descriptions, reasons) may hold line breaks and tabs; NUL never reaches PostgreSQL.
TEXT_PATTERN = r"^[^\u0000]*$"
_identifier = re.compile(IDENTIFIER_PATTERN)


def is_identifier_text(value: str) -> bool:
    """True when `value` keeps the identifier rule (IDENTIFIER_PATTERN)."""
    return _identifier.fullmatch(value) is not None  # `$` alone would let a final "\n" by

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 32)
        chars.append(_ALPHABET[rest])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """A new id `prefix_<26 chars>`, sortable by creation time."""
    millis = int(time.time() * 1000)
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"



# RFC 4648 base32 (C speed, in base64) spelled in our alphabet: 10 bytes are the same 16
# characters as _base32(number, 16).
_RFC4648_TO_OURS = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` new ids like `new_id`'s, sorted in the order given (one millisecond, consecutive
    random parts): rows appended together keep their order by id."""
    head = f"{prefix}_{_base32(int(time.time() * 1000), 10)}"
    start = secrets.randbits(79)
    return [head + base64.b32encode((start + offset).to_bytes(10, "big"))
            .translate(_RFC4648_TO_OURS).decode() for offset in range(count)]
