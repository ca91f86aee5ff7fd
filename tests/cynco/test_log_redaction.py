"""The net under "never log a key": what cynco.log_redaction blots out of every log line."""

from __future__ import annotations

import logging

import pytest

from cynco.log_format import JsonFormatter, TextFormatter
from cynco.log_redaction import luhn_valid, scrub
from tests.key_material import key_material

RAW_KEY = "cp_sk_live_AbCd" + "x7Y2" * 7


@pytest.mark.parametrize("secret, kept", [
    (RAW_KEY, "cp_sk_live_AbCd…[redacted]"),
    ("whsec_" + "0a1b2c" * 8, "whsec_[redacted]"),
    ("sk_test_51Habc123def456", "sk_test_[redacted]"),
    ("Authorization: Bearer opaque.token-value_1", "Authorization: Bearer [redacted]"),
    ("card 4242424242424242 declined", "card [card redacted] declined"),
    ("card 4000 0027 6000 3184", "card [card redacted]"),
])
def test_key_material_is_blotted_out(secret, kept):
    assert scrub(secret) == kept
    assert key_material(scrub(secret)) == []


def test_ids_amounts_and_numbers_that_are_not_cards_are_left_alone():
    text = ("invoice pinv_01m8sx total 4242 paid; usage 1234567890123.5; "
            "order 4242424242424241; key prefix cp_sk_test_AbCd; "
            "request req_3077ecc9d597431494149202; task 41380470-4267-4216-b475-462165ef1501")
    assert not luhn_valid("4242424242424241") and luhn_valid("597431494149202")
    assert scrub(text) == text
    assert key_material(text) == []
    assert scrub("paid with 4242424242424242.") == "paid with [card redacted]."


def record(message: str, *args, exc: BaseException | None = None) -> logging.LogRecord:
    return logging.LogRecord("cynco.test", logging.ERROR, __file__, 1, message, args,
                             (type(exc), exc, exc.__traceback__) if exc else None)


def test_both_formats_scrub_messages_arguments_and_tracebacks():
    try:
        raise ValueError(f"gateway refused {RAW_KEY}")
    except ValueError as exc:
        error = exc
    for formatter in (JsonFormatter(), TextFormatter()):
        line = formatter.format(record("charging %s with key %s", "4242424242424242", RAW_KEY,
                                       exc=error))
        assert key_material(line) == [], line
        assert "cp_sk_live_AbCd…[redacted]" in line and "[card redacted]" in line
