"""Public ids: a type prefix plus a time-ordered random part, e.g. `pak_01jq3v9x4m2k8e7w5r6t0y1z2a`.

The prefix tells a reader what an id points at and follows the `@cynco/billing` client's docs:
`mer` merchant, `pak` API key, `pcm` customer, `psub` subscription, `pprod` product, `ppri` price,
`pver` product version, `pcpn` coupon, `pwh` webhook endpoint, `pent` entity, `pbal` balance,
`paudit` audit event, `prw` reward program, `prc` referral code, `evt` webhook event, `lock`
balance lock, `pinv` invoice. The first 10 characters of the random part are the creation time in
milliseconds, so new rows land at the end of their index as with a sequence, without a sequence
shared across merchants (DESIGN.md, Citus). The remaining 80 bits are random.
"""

import secrets
import time

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

