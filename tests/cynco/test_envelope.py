"""Every answer of /api/ is the envelope of API.md, whatever goes wrong."""

import pytest

from tests.factories import error_of

pytestmark = pytest.mark.django_db

KEYS_PATH = "/api/v1/pay/api-keys"


@pytest.mark.parametrize(
    "path", ["/api/v1/pay/nothing-here", "/api/v2/anything", "/api/", "/api/v1/ledger/nope"]
)
def test_unknown_api_paths_are_404_in_the_envelope(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_a_wrong_method_is_405_in_the_envelope(api):
    response = api.put(KEYS_PATH, {"name": "x"})
    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "raw", ['{"name": "x", ', "not json", '{"name": NaN, "type": "secret"}', "\x00\x01", "[1,2"]
)
def test_malformed_json_is_422_with_details(api, raw):
    response = api.post(KEYS_PATH, raw=raw)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["field"] == "body"


def test_a_json_array_where_an_object_is_expected_is_422(api):
    response = api.post(KEYS_PATH, [1, 2])
    assert response.status_code == 422
    assert error_of(response)["code"] == "VALIDATION_ERROR"


def test_a_form_encoded_body_is_422_asking_for_json(api):
    response = api.client.post(
        KEYS_PATH, data="name=x&type=secret", content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )
    assert response.status_code == 422
    assert "application/json" in error_of(response)["message"]


def test_bad_pagination_is_422(api):
    from cynco.responses import page_of
    from rest_framework.test import APIRequestFactory
    from rest_framework.request import Request

    from cynco.errors import ValidationFailed

    for query in ("limit=0", "limit=101", "limit=abc", "offset=-1"):
        request = Request(APIRequestFactory().get(f"/x?{query}"))
        with pytest.raises(ValidationFailed):
            page_of(request)
    request = Request(APIRequestFactory().get("/x?limit=10&offset=20"))
    assert (page_of(request).limit, page_of(request).offset) == (10, 20)


def test_the_client_version_header_is_echoed(api):
    response = api.get(KEYS_PATH, headers={"X-CyncoBilling-Version": "0.3.0"})
    assert response.headers["X-CyncoBilling-Version"] == "0.3.0"


def test_an_unexpected_error_becomes_a_500_envelope_without_internals():
    from cynco.errors import api_exception_handler

    response = api_exception_handler(RuntimeError("secret internals"), {"view": None})
    assert response.status_code == 500
    assert response.data["error"]["code"] == "INTERNAL_ERROR"
    assert "secret internals" not in str(response.data)


def test_the_older_clients_version_header_is_echoed_under_the_current_name(api):
    response = api.get(KEYS_PATH, headers={"X-CyncoPay-Version": "0.2.0"})
    assert response.headers["X-CyncoBilling-Version"] == "0.2.0"


def test_browsers_may_call_the_api_cross_origin(client):
    response = client.options(
        KEYS_PATH,
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "idempotency-key" in allowed


def test_a_body_over_the_limit_is_413_with_or_without_an_idempotency_key(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"name": "x" * 2000, "type": "secret"}
    for headers in ({}, {"Idempotency-Key": "big"}):
        response = api.post(KEYS_PATH, body, headers=headers)
        assert response.status_code == 413
        assert error_of(response)["code"] == "PAYLOAD_TOO_LARGE"


def test_control_characters_in_query_values_are_422_not_a_database_error(api):
    response = api.delete(KEYS_PATH + "?id=%00")
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "id"


def test_a_nul_byte_in_a_json_string_is_422(api):
    response = api.post(KEYS_PATH, raw='{"name": "a\\u0000b", "type": "secret"}')
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "name"


def test_an_idempotency_key_with_control_characters_is_422(api):
    response = api.post(KEYS_PATH, {"name": "x", "type": "secret"},
                        headers={"Idempotency-Key": "a\x01b"})
    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "Idempotency-Key"


def test_a_request_for_an_unknown_host_is_400_in_the_envelope(api):
    response = api.get(KEYS_PATH, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "BAD_REQUEST"
