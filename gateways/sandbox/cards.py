"""The sandbox's test cards (API.md, "Sandbox cards") and what each does. No Django here.

| card                | at checkout (customer present) | later off-session charges |
|---------------------|--------------------------------|---------------------------|
| 4242 4242 4242 4242 | succeeds                       | succeed                   |
| 4000 0000 0000 0002 | declined                       | declined                  |
| 4000 0027 6000 3184 | needs 3-D Secure               | need 3-D Secure           |
| 4000 0000 0000 0341 | succeeds (card saved)          | declined (for dunning)    |

Any other number is refused as "not a sandbox card" before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateways.base import PAYMENT_FAILED, THREE_DS_REQUIRED

DECLINED_MESSAGE = "Card was declined"
THREE_DS_MESSAGE = "3-D Secure authentication is required"
THREE_DS_FAILED_MESSAGE = "3-D Secure authentication failed"
INVALID_CARD = "invalid_card"
INVALID_CARD_MESSAGE = "Not a sandbox card: use 4242 4242 4242 4242 or another card of the docs"


class Behaviour(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # 3-D Secure


@dataclass(frozen=True)
class SandboxCard:
    number: str
    brand: str
    at_checkout: Behaviour
    off_session: Behaviour


CARDS = {
    card.number: card
    for card in (
        SandboxCard("4242424242424242", "visa", Behaviour.SUCCEED, Behaviour.SUCCEED),
        SandboxCard("4000000000000002", "visa", Behaviour.DECLINE, Behaviour.DECLINE),
        SandboxCard("4000002760003184", "visa", Behaviour.AUTHENTICATE, Behaviour.AUTHENTICATE),
        SandboxCard("4000000000000341", "visa", Behaviour.SUCCEED, Behaviour.DECLINE),
    )
}


def card_for(number: str) -> SandboxCard | None:
    """The sandbox card with this number (spaces and dashes ignored), or None."""
    digits = "".join(ch for ch in str(number) if ch not in " -")
    return CARDS.get(digits)


def failure_of(behaviour: Behaviour) -> tuple[str, str]:
    """(failure code, message) of a behaviour that does not simply succeed."""
    if behaviour == Behaviour.DECLINE:
        return PAYMENT_FAILED, DECLINED_MESSAGE
    if behaviour == Behaviour.AUTHENTICATE:
        return THREE_DS_REQUIRED, THREE_DS_MESSAGE
    return "", ""
