"""Typed API errors and the one handler that turns every error into the envelope of API.md.

    {"success": false, "error": {"code": "…", "message": "…", "details": [{"field", "message"}]}}

Services raise the subclasses of `ApiError`; DRF's own exceptions (validation, parse, auth,
method) are translated here too, and anything unexpected becomes a logged 500 INTERNAL_ERROR
without leaking internals.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the API answers with; subclasses fix the code and HTTP status."""

    status = 400
    code = "BAD_REQUEST"
    message = "Bad request"

    def __init__(self, message: str | None = None, *, details: list[dict] | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details or []


class ValidationFailed(ApiError):
    status, code, message = 422, "VALIDATION_ERROR", "Invalid request"

    @classmethod
    def field(cls, field: str, message: str) -> "ValidationFailed":
        return cls(f"{field}: {message}", details=[{"field": field, "message": message}])


class PayloadTooLarge(ApiError):
    status, code, message = 413, "PAYLOAD_TOO_LARGE", "The request body is too large"


class Unauthorized(ApiError):
    status, code, message = 401, "UNAUTHORIZED", "Missing or invalid API key"


class Forbidden(ApiError):
    status, code, message = 403, "FORBIDDEN", "This key may not do that"


class NotFound(ApiError):
    status, code, message = 404, "NOT_FOUND", "Not found"


class CustomerNotFound(NotFound):
    code, message = "CUSTOMER_NOT_FOUND", "Customer not found"


class FeatureNotFound(NotFound):
    code, message = "FEATURE_NOT_FOUND", "Feature not found"


class ProductNotFound(NotFound):
    code, message = "PRODUCT_NOT_FOUND", "Product not found"


class MethodNotAllowed(ApiError):
    status, code, message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"


class Conflict(ApiError):
    status, code, message = 409, "CONFLICT", "Conflict"


class IdempotencyInProgress(ApiError):
    status, code = 409, "IDEMPOTENCY_IN_PROGRESS"
    message = "A request with this Idempotency-Key is still being processed"


class IdempotencyKeyReused(ApiError):
    status, code = 422, "IDEMPOTENCY_KEY_REUSED"
    message = "This Idempotency-Key was used with a different request"


class LockAlreadyFinalized(ApiError):
    status, code, message = 409, "LOCK_ALREADY_FINALIZED", "This lock was already finalized"


class LockExpired(ApiError):
    status, code, message = 410, "LOCK_EXPIRED", "This lock has expired"


class LimitExceeded(ApiError):
    status, code, message = 402, "LIMIT_EXCEEDED", "Limit exceeded"


class PaymentFailed(ApiError):
    status, code, message = 402, "PAYMENT_FAILED", "Payment failed"


class RateLimited(ApiError):
    status, code, message = 429, "RATE_LIMITED", "Too many requests"


class ConcurrentRequest(ApiError):
    status, code = 429, "CONCURRENT_REQUEST"
    message = "Another operation for this customer is still running; retry shortly"


class InternalError(ApiError):
    status, code, message = 500, "INTERNAL_ERROR", "Internal error"


def error_body(code: str, message: str, details: list[dict] | None = None) -> dict[str, Any]:
    return {"success": False, "error": {"code": code, "message": message, "details": details or []}}


def flatten_validation_errors(errors: Any, prefix: str = "") -> list[dict]:
    """DRF's nested error structure as a flat list of `{field, message}` (dotted field paths)."""
    if isinstance(errors, dict):
        flat = []
        for name, value in errors.items():
            if isinstance(name, int):  # ListField/DictField children are keyed by position
                path = f"{prefix}[{name}]"
            elif name == "non_field_errors":
                path = prefix or "body"
            else:
                path = f"{prefix}.{name}" if prefix else str(name)
            flat.extend(flatten_validation_errors(value, path))
        return flat
    if isinstance(errors, list):
        if all(not isinstance(item, (dict, list)) for item in errors):
            return [{"field": prefix or "body", "message": str(item)} for item in errors]
        flat = []
        for index, item in enumerate(errors):
            if item:
                flat.extend(flatten_validation_errors(item, f"{prefix}[{index}]"))
        return flat
    return [{"field": prefix or "body", "message": str(errors)}]


def validation_failed(errors: Any) -> ValidationFailed:
    """The 422 for a serializer's `errors`, with one detail per field."""
    details = flatten_validation_errors(errors)
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:3])
    return ValidationFailed(summary or "Invalid request", details=details)


def _translate(exc: Exception) -> ApiError | None:
    """The ApiError for a DRF or Django exception, or None when it is unexpected."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, drf.ValidationError):
        return validation_failed(exc.detail)
    if isinstance(exc, drf.ParseError):
        return ValidationFailed(
            f"Malformed JSON: {exc.detail}", details=[{"field": "body", "message": str(exc.detail)}]
        )
    if isinstance(exc, drf.UnsupportedMediaType):
        message = "Send the body as JSON with Content-Type: application/json"
        return ValidationFailed(message, details=[{"field": "body", "message": message}])
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return Unauthorized(str(exc.detail))
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return Forbidden(str(getattr(exc, "detail", "")) or None)
    if isinstance(exc, (drf.NotFound, Http404)):
        return NotFound()
    if isinstance(exc, drf.MethodNotAllowed):
        return MethodNotAllowed(str(exc.detail))
    if isinstance(exc, drf.NotAcceptable):
        return ApiError("This API only answers application/json")
    if isinstance(exc, drf.Throttled):
        return RateLimited(str(exc.detail))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, DataError):
        # Input that slipped past validation and that PostgreSQL refuses (a NUL byte, a number
        # out of range): the request's fault, so a 422, but logged because validation missed it.
        logger.warning("Database refused a value: %s", exc)
        return ValidationFailed(
            "A value is malformed or out of range",
            details=[{"field": "body", "message": "A value is malformed or out of range"}],
        )
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every error of every API view comes out in the envelope."""
    error = _translate(exc)
    if error is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        error = InternalError()
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if error.status == 401 else None
    return Response(
        error_body(error.code, error.message, error.details), status=error.status, headers=headers
    )


def json_error_response(error: ApiError) -> JsonResponse:
    """The envelope for errors raised outside DRF views (unknown paths, Django's 400/500)."""
    return JsonResponse(error_body(error.code, error.message, error.details), status=error.status)
