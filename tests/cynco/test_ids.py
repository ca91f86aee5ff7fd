"""Ids appended together (cynco.ids.new_ids) keep their order and look like any other id."""

import base64

from hypothesis import given
from hypothesis import strategies as st

from cynco import ids


def test_ids_made_together_sort_in_their_order_and_look_like_new_ids():
    made = ids.new_ids("pue", 1000)
    assert made == sorted(made) and len(set(made)) == 1000
    one = ids.new_id("pue")
    assert {len(id) for id in made} == {len(one)}
    assert all(set(id[4:]) <= set(ids._ALPHABET) for id in made)


@given(st.integers(min_value=0, max_value=2**80 - 1))
def test_the_fast_encoding_spells_numbers_as_base32_does(number):
    fast = base64.b32encode(number.to_bytes(10, "big")).translate(ids._RFC4648_TO_OURS)
    assert fast.decode() == ids._base32(number, 16)
