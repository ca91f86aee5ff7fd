"""The delivery rules in isolation: how a body is signed and when a failed delivery is retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.webhook_retries import MAX_DELAY, gives_up, retry_delay
from billing.webhook_signatures import new_secret, sign, verify

# The client's docs fixture, signed with a secret from its tests.
BODY = (b'{"id":"evt_test_123","type":"subscription.activated",'
        b'"created":"2026-03-17T00:00:00Z","data":{"subscriptionId":"psub_abc"}}')
SECRET = "whsec_test_secret_key_12345"


def test_the_signature_is_lowercase_hex_hmac_sha256_of_the_raw_body_keyed_by_the_whole_secret():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, SECRET) == expected
    assert len(expected) == 64 and expected == expected.lower()


def test_a_receiver_with_another_secret_or_a_changed_body_rejects_the_signature():
    signature = sign(BODY, SECRET)
    assert verify(BODY, signature, SECRET)
    assert verify(BODY, signature.upper(), SECRET)  # hex decodes either case, as the client does
    assert not verify(BODY, signature, "whsec_another")
    assert not verify(BODY.replace(b"psub_abc", b"psub_abd"), signature, SECRET)
    assert not verify(BODY, "sha256=" + signature, SECRET)
    assert not verify(BODY, signature[:-2], SECRET)
    assert not verify(BODY, "", SECRET)
    assert not verify(BODY, None, SECRET)


def test_new_secrets_look_like_the_clients_and_never_repeat():
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(s.startswith("whsec_") and len(s) == 54 for s in secrets)


@pytest.mark.parametrize(
    "attempts, minutes",
    [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 64), (8, 120), (9, 120), (40, 120)],
)
def test_retries_back_off_exponentially_up_to_two_hours(attempts, minutes):
    assert retry_delay(attempts, random_fraction=0.5) == timedelta(minutes=minutes)


@given(attempts=st.integers(min_value=1, max_value=500), fraction=st.floats(0, 0.999999))
def test_jitter_stays_within_a_fifth_of_the_delay(attempts, fraction):
    delay = retry_delay(attempts, random_fraction=fraction)
    middle = retry_delay(attempts, random_fraction=0.5)
    assert middle * 0.8 <= delay <= middle * 1.2
    assert delay <= MAX_DELAY * 1.2


def test_a_delivery_is_given_up_only_once_the_whole_window_has_passed():
    start = datetime(2026, 3, 1, tzinfo=UTC)
    day = timedelta(hours=24)
    assert not gives_up(retry_from=start, failed_at=start + day - timedelta(seconds=1), window=day)
    assert gives_up(retry_from=start, failed_at=start + day, window=day)


def test_the_schedule_keeps_trying_for_a_day_with_a_bounded_number_of_attempts():
    elapsed, attempts = timedelta(0), 1
    while not gives_up(retry_from=datetime.min, failed_at=datetime.min + elapsed,
                       window=timedelta(hours=24)):
        elapsed += retry_delay(attempts, random_fraction=0.0)  # the shortest waits
        attempts += 1
    assert elapsed >= timedelta(hours=24)
    assert 15 <= attempts <= 30
