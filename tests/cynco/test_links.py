"""Signed customer links: they open what they were made for, for a limited time, and nothing else."""

import pytest
import time_machine

from cynco.links import LinkExpired, LinkInvalid, LinkTarget, make_token, read_token


def test_a_token_opens_what_it_was_made_for():
    target = LinkTarget("portal", "pcm_1", "mer_1", "test")
    assert read_token("portal", make_token(target)) == target


def test_a_portal_link_expires_after_one_hour():
    with time_machine.travel("2026-11-25 10:00:00Z", tick=False) as traveller:
        token = make_token(LinkTarget("portal", "pcm_1", "mer_1", "test"))
        traveller.move_to("2026-11-25 10:59:00Z")
        assert read_token("portal", token).object_id == "pcm_1"
        traveller.move_to("2026-11-25 11:00:01Z")
        with pytest.raises(LinkExpired):
            read_token("portal", token)


def test_a_token_of_one_kind_does_not_open_another():
    token = make_token(LinkTarget("checkout", "chk_1", "mer_1", "test"))
    with pytest.raises(LinkInvalid):
        read_token("portal", token)


@pytest.mark.parametrize("token", ["", "garbage", "a:b:c"])
def test_a_forged_or_altered_token_is_invalid(token):
    with pytest.raises(LinkInvalid):
        read_token("portal", token)


def test_an_altered_token_is_invalid():
    token = make_token(LinkTarget("invoice", "pinv_1", "mer_1", "live"))
    # Change the first character of the signature (every bit of it counts, unlike the last
    # base64 character's padding bits).
    at = token.rindex(":") + 1
    altered = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]
    assert altered != token
    with pytest.raises(LinkInvalid):
        read_token("invoice", altered)
