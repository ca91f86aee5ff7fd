"""Key authentication: who may call, and what they get when they may not."""

import pytest

from cynco.keys import hash_key
from cynco.models import ApiKey
from tests.factories import Api, data_of, error_of

pytestmark = pytest.mark.django_db

KEYS_PATH = "/api/v1/pay/api-keys"


def test_a_request_without_a_key_is_401_in_the_envelope():
    response = Api(None).get(KEYS_PATH)
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer cp_sk_test_" + "a" * 32,  # well-formed but unknown
        "Bearer cp_xx_test_" + "a" * 32,
        "cp_sk_test_" + "a" * 32,
    ],
)
def test_a_garbled_or_unknown_key_is_401(header):
    response = Api(None).get(KEYS_PATH, headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"


def test_a_revoked_key_stops_working_on_the_next_request(merchant, api):
    extra = data_of(api.post(KEYS_PATH, {"name": "temp", "type": "secret"}), 201)
    temp = Api(extra["rawKey"])
    assert temp.get(KEYS_PATH).status_code == 200

    assert data_of(api.delete(f"{KEYS_PATH}?id={extra['id']}")) == {"revoked": True}

    response = temp.get(KEYS_PATH)
    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_a_publishable_key_on_a_secret_only_endpoint_is_403(public_api):
    response = public_api.get(KEYS_PATH)
    assert response.status_code == 403
    assert error_of(response)["code"] == "FORBIDDEN"


def test_only_the_hash_of_a_key_is_stored(merchant):
    key = ApiKey.objects.get(key_hash=hash_key(merchant.secret_test))
    assert merchant.secret_test not in {key.key_hash, key.key_prefix, key.name}
    assert merchant.secret_test.startswith(key.key_prefix)


def test_last_used_is_stamped_at_most_once_a_minute(merchant, api):
    key = ApiKey.objects.get(key_hash=hash_key(merchant.secret_test))
    assert key.last_used_at is None
    api.get(KEYS_PATH)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    api.get(KEYS_PATH)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first


@pytest.mark.parametrize("method,path,body", [
    ("post", "/api/v1/pay/preview", {"customer": "user_1", "product": "pro"}),
    ("get", "/api/v1/pay/test/clock", None),
    ("post", "/api/v1/pay/multi-attach", {"customer": "user_1", "products": [{"product": "pro"}],
                                          "successUrl": "https://example.com/ok",
                                          "cancelUrl": "https://example.com/no"}),
])
def test_a_publishable_key_is_403_beyond_what_api_md_opens_to_it(public_api, method, path, body):
    response = public_api.call(method, path, body)
    assert response.status_code == 403, response.content[:300]
    assert error_of(response)["code"] == "FORBIDDEN"
