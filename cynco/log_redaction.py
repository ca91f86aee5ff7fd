"""Key material that must never reach a log line, and how it is blotted out.

The code logs ids, never keys, secrets or card numbers; this is the net under that rule. Every
formatted log line passes through `scrub` (cynco.log_format), exception text included, so a
secret that slipped into a message or a traceback is replaced before the line is written.
Pure functions, no Django.
"""

from __future__ import annotations

import re

# Our API keys: the visible prefix (cp_sk_test_ plus 4, as shown in the console) may stay.
_API_KEY = re.compile(r"\b(cp_(?:sk|pk)_(?:live|test)_[A-Za-z0-9]{4})[A-Za-z0-9]{8,}")
# Webhook signing secrets (ours and Stripe's), gateway secret and restricted keys.
_SECRETS = re.compile(r"\b(whsec_|sk_live_|sk_test_|rk_live_|rk_test_)[A-Za-z0-9]{6,}")
# Whatever follows "Bearer " in a header that was logged whole.
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
# 13 to 19 digits, optionally split by single spaces or dashes, standing alone (not inside an
# id such as `req_3077ecc9d597431494149202` or a UUID, nor a decimal): a candidate card number.
_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w-]|\.\d)")

REDACTED = "[redacted]"


def luhn_valid(digits: str) -> bool:
    """Whether a digit string passes the Luhn check every card number passes."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return "[card redacted]" if luhn_valid(digits) else match.group(0)


def scrub(text: str) -> str:
    """`text` with API keys cut to their visible prefix and secrets, bearer tokens and
    Luhn-valid card numbers replaced."""
    if not text:
        return text
    text = _API_KEY.sub(lambda m: m.group(1) + "…" + REDACTED, text)
    text = _SECRETS.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _CARD.sub(_card, text)
