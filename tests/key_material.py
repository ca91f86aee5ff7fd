"""What must never be found in a log: how tests recognise key material in log text.

Deliberately independent of cynco.log_redaction (which blots these out of real log lines): the
tests look at what the code wrote before any scrubbing, so a leak is caught at its source and
not merely hidden by the net.
"""

from __future__ import annotations

import re

PATTERNS = {
    "API key": re.compile(r"cp_(?:sk|pk)_(?:live|test)_[A-Za-z0-9]{20,}"),
    "webhook secret": re.compile(r"whsec_[A-Za-z0-9]{16,}"),
    "gateway secret key": re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}"),
    "bearer token": re.compile(r"(?i)bearer\s+[A-Za-z0-9_\-.]{12,}"),
}
# Standing alone: digits inside an id (hex request ids, UUIDs) or a decimal are not a card.
_CARD = re.compile(r"(?<![\w.-])[2-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{3,7}(?![\w-]|\.\d)")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def key_material(text: str, known: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(kind, what was found) for every piece of key material in `text`: API keys, webhook
    and gateway secrets, bearer tokens, card numbers (15 to 19 digits passing Luhn), and any
    of the `known` secret strings (raw keys, portal tokens) a test handed out."""
    found = [(kind, match.group(0)) for kind, pattern in PATTERNS.items()
             for match in pattern.finditer(text)]
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 15 <= len(digits) <= 19 and _luhn(digits):
            found.append(("card number", match.group(0)))
    found += [("known secret", secret) for secret in known if secret and secret in text]
    return found
