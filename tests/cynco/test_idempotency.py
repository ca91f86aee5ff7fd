"""Idempotency-Key: replays answer the same, reuse is refused, in-flight replays wait their turn.

These run real requests in real threads against PostgreSQL.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, connections

from cynco.idempotency import request_fingerprint
from cynco.models import ApiKey, IdempotencyRecord
from tests.factories import Api, data_of, error_of, make_merchant

KEYS_PATH = "/api/v1/pay/api-keys"


def test_same_body_with_different_spacing_has_the_same_fingerprint():
    a = request_fingerprint("POST", "/p", "", b'{"a": 1, "b": [1, 2]}')
    b = request_fingerprint("POST", "/p", "", b'{"b":[1,2],"a":1}')
    c = request_fingerprint("POST", "/p", "", b'{"b":[1,2],"a":2}')
    assert a == b != c


@pytest.mark.django_db
def test_a_replay_does_nothing_twice(api):
    body = {"name": "once", "type": "publishable"}
    first = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "abc"})
    second = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "abc"})
    assert second.status_code == first.status_code == 201
    assert data_of(second, 201)["id"] == data_of(first, 201)["id"]
    assert ApiKey.objects.filter(name="once").count() == 1


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_422(api):
    api.post(KEYS_PATH, {"name": "a", "type": "secret"}, headers={"Idempotency-Key": "k"})
    response = api.post(KEYS_PATH, {"name": "b", "type": "secret"}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert not ApiKey.objects.filter(name="b").exists()


@pytest.mark.django_db
def test_keys_are_scoped_to_merchant_and_environment(merchant, api, live_api, other_merchant):
    body = {"name": "same-key", "type": "secret"}
    headers = {"Idempotency-Key": "shared"}
    ids = {
        data_of(client.post(KEYS_PATH, body, headers=headers), 201)["id"]
        for client in (api, live_api, Api(other_merchant.secret_test))
    }
    assert len(ids) == 3


@pytest.mark.django_db
def test_a_validation_error_is_remembered_too(api):
    body = {"name": "x", "type": "bogus"}
    first = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "bad"})
    second = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "bad"})
    assert first.status_code == second.status_code == 422
    assert second.headers["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_an_overlong_key_is_422(api):
    response = api.post(KEYS_PATH, {"name": "x", "type": "secret"},
                        headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "Idempotency-Key"


def _in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connections.close_all()
    return run


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_create_exactly_one_key():
    keys = make_merchant()
    body = {"name": "raced", "type": "secret"}

    @_in_thread
    def attempt(_):
        return Api(keys.secret_test).post(KEYS_PATH, body, headers={"Idempotency-Key": "race"})

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(attempt, range(20)))

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    created_ids = {r.json()["data"]["id"] for r in responses if r.status_code == 201}
    assert len(created_ids) == 1
    assert all(error_of(r)["code"] == "IDEMPOTENCY_IN_PROGRESS"
               for r in responses if r.status_code == 409)
    assert ApiKey.objects.filter(name="raced").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_replay_while_the_first_is_running_is_409_then_the_stored_answer():
    keys = make_merchant()
    api = Api(keys.secret_test)
    api.get(KEYS_PATH)  # stamps lastUsedAt now, so authentication writes nothing below
    body = {"name": "slow", "type": "secret"}
    headers = {"Idempotency-Key": "inflight"}

    # Another session holds a lock that makes the first request's INSERT wait.
    dsn = connection.get_connection_params()
    blocker = psycopg.connect(**{k: v for k, v in dsn.items() if k != "cursor_factory"})
    blocker.execute("BEGIN")
    blocker.execute("LOCK TABLE cynco_apikey IN EXCLUSIVE MODE")

    results = {}

    @_in_thread
    def first():
        results["first"] = Api(keys.secret_test).post(KEYS_PATH, body, headers=headers)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        for _ in range(200):  # wait until the first request has claimed the key
            if IdempotencyRecord.objects.filter(key="inflight").exists():
                break
            threading.Event().wait(0.02)
        replay = api.post(KEYS_PATH, body, headers=headers)
        assert replay.status_code == 409
        assert error_of(replay)["code"] == "IDEMPOTENCY_IN_PROGRESS"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        thread.join(timeout=30)

    assert results["first"].status_code == 201
    after = api.post(KEYS_PATH, body, headers=headers)
    assert data_of(after, 201)["id"] == results["first"].json()["data"]["id"]
    assert ApiKey.objects.filter(name="slow").count() == 1


OWNER_SCRIPT = """
import os, signal, sys, time
import django
django.setup()
from cynco import idempotency
from cynco.tenancy import Scope
scope = Scope(sys.argv[1], "test")
stored, owner = idempotency.claim(scope=scope, key="died", fingerprint=sys.argv[2])
print("claimed" if owner is not None else "not claimed", flush=True)
time.sleep(120)
"""


def _database_url() -> str:
    params = connection.settings_dict
    return "postgres://{}@{}:{}/{}".format(params["USER"] or "postgres", params["HOST"] or
                                          "127.0.0.1", params["PORT"] or 5432, params["NAME"])


@pytest.mark.django_db(transaction=True)
def test_a_key_whose_first_request_died_may_be_retried_at_once():
    """The owner of the key is a real process, killed with SIGKILL while it holds the claim:
    while it lives a retry is 409; once it is gone the retry runs at once (no 300 s wait)."""
    import os
    import signal
    import subprocess
    import sys

    from django.conf import settings as django_settings

    keys = make_merchant()
    api = Api(keys.secret_test)
    body = {"name": "after a crash", "type": "secret"}
    fingerprint = request_fingerprint("POST", KEYS_PATH, "", json.dumps(body).encode())
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER_SCRIPT, keys.merchant.id, fingerprint],
        env={**os.environ, "DATABASE_URL": _database_url(),
             "DJANGO_SETTINGS_MODULE": "cynco.settings"},
        cwd=django_settings.BASE_DIR, stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout.readline().strip() == "claimed"
        alive = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "died"})
        assert alive.status_code == 409
        assert error_of(alive)["code"] == "IDEMPOTENCY_IN_PROGRESS"
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    assert IdempotencyRecord.objects.get(key="died").state == "in_progress"

    deadline = time.monotonic() + 10  # the server notices the closed socket within moments
    while True:
        retry = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "died"})
        if retry.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    created = data_of(retry, 201)
    again = api.post(KEYS_PATH, body, headers={"Idempotency-Key": "died"})
    assert data_of(again, 201)["id"] == created["id"]
    assert ApiKey.objects.filter(name="after a crash").count() == 1


def test_a_wrong_method_is_405_before_the_idempotency_key_is_read(api):
    response = api.put("/api/v1/pay/check", {"customer": "x"}, headers={"Idempotency-Key": ""})
    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"
