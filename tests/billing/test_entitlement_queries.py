"""check and track cost a small, constant number of queries, whatever the history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.billing.entitlements import CHECK, TRACK, customer_on, metered, plan, track

pytestmark = pytest.mark.django_db

# The one-statement path (billing.services.usage_fast_path): one statement whatever the call,
# here inside the test's transaction, so with a savepoint and its release around it.
FAST_PATH_QUERIES = 3
# The full path: key lookup, the lookup of customer+feature+balance, the test clock; for writes
# also the transaction's start and end (a savepoint here, inside the test's transaction), the
# customer lock, the fresh read, and the in-place update with its event in one statement.
PLAIN_CHECK_QUERIES = 3
WRITE_QUERIES = 8


def queries(api, path, body) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert api.post(path, body).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("history", [0, 30])
def test_check_and_track_are_one_statement_with_or_without_history(api, merchant, history):
    plan(api, "pro", metered("messages", 1000))
    customer_on(api, merchant, "pro")
    for _ in range(history):
        track(api, "messages")
    body = {"customer": "user_1", "feature": "messages"}
    api.post(CHECK, body)  # warm: the key's lastUsedAt was stamped
    for path, sent in [(CHECK, body), (CHECK, {**body, "sendEvent": True}), (TRACK, body),
                       (TRACK, {**body, "idempotencyKey": f"k{history}"})]:
        ran = queries(api, path, sent)
        assert len(ran) == FAST_PATH_QUERIES, "\n".join(q[:70] for q in ran)
        assert "billing_usage_record" in ran[1]


@pytest.mark.parametrize("history", [0, 30])
def test_the_full_path_costs_the_same_with_or_without_history(api, merchant, history,
                                                              settings):
    settings.USAGE_FAST_PATH = False
    plan(api, "pro", metered("messages", 1000))
    customer_on(api, merchant, "pro")
    for _ in range(history):
        track(api, "messages")
    body = {"customer": "user_1", "feature": "messages"}
    api.post(CHECK, body)  # warm: the key's lastUsedAt was stamped
    assert len(queries(api, CHECK, body)) == PLAIN_CHECK_QUERIES
    sent = queries(api, CHECK, {**body, "sendEvent": True})
    assert len(sent) == WRITE_QUERIES, "\n".join(q[:70] for q in sent)
    assert len(queries(api, TRACK, body)) == WRITE_QUERIES
    with_key = queries(api, TRACK, {**body, "idempotencyKey": f"k{history}"})
    assert len(with_key) == WRITE_QUERIES + 1  # the duplicate check
