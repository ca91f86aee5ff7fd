"""The base class of every API view: envelope, key auth, and Idempotency-Key handling."""

from __future__ import annotations

from contextlib import nullcontext

from django.db import transaction
from django.http import HttpResponse
from rest_framework.views import APIView

from cynco import idempotency
from cynco.errors import ValidationFailed
from cynco.ids import is_identifier_text
from cynco.tenancy import Scope, scope_of


class ApiView(APIView):
    """An endpoint of /api/v1/. Subclasses write `get`/`post`/… that call one service.

    `idempotency_atomic = False` for views that must commit before calling a gateway.
    """

    idempotency_atomic = True
    # Query parameters an empty value is allowed for (it means "no filter"); every other
    # query value must be non-empty.
    empty_query_allowed: tuple[str, ...] = ()
    # Fields blanked (set to null) in the stored copy of a response, e.g. secrets shown once:
    # a replay then answers the same object without the secret.
    idempotency_redacted_fields: tuple[str, ...] = ()

    @property
    def scope(self) -> Scope:
        return scope_of(self.request)

    def dispatch(self, request, *args, **kwargs):
        # DRF's dispatch, with the Idempotency-Key claim between authentication and the handler.
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            if not self._has_handler(request):
                self.http_method_not_allowed(request)  # before any header is looked at
            _check_query_values(request, self.empty_query_allowed)
            key = idempotency.key_from(request)
            if key is None:
                response = self._finalized(self._run_handler(request, *args, **kwargs))
            else:
                response = self._run_idempotent(request, key, *args, **kwargs)
        except Exception as exc:
            response = self._finalized(self.handle_exception(exc))
        self.response = response
        return response

    def _has_handler(self, request) -> bool:
        method = request.method.lower()
        return method in self.http_method_names and hasattr(self, method)

    def _run_handler(self, request, *args, **kwargs):
        return getattr(self, request.method.lower())(request, *args, **kwargs)

    def _finalized(self, response):
        response = self.finalize_response(self.request, response, *self.args, **self.kwargs)
        if hasattr(response, "render"):
            response.render()
        return response

    def _run_idempotent(self, request, key, *args, **kwargs):
        scope = scope_of(request)
        fingerprint = idempotency.request_fingerprint(
            request.method, request.path, request.META.get("QUERY_STRING", ""), request.body
        )
        stored, owner = idempotency.claim(scope=scope, key=key, fingerprint=fingerprint)
        if stored is not None:
            replay = HttpResponse(
                stored.body, status=stored.status_code, content_type="application/json"
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        try:
            return self._run_claimed(request, scope, key, *args, **kwargs)
        finally:
            owner.release()  # after the answer is stored: a retry then finds it

    def _run_claimed(self, request, scope, key, *args, **kwargs):
        try:
            with transaction.atomic() if self.idempotency_atomic else nullcontext():
                response = self._finalized(self._run_handler(request, *args, **kwargs))
                idempotency.complete(
                    scope=scope,
                    key=key,
                    status_code=response.status_code,
                    body=idempotency.redact(response.content, self.idempotency_redacted_fields),
                )
            return response
        except Exception as exc:
            response = self._finalized(self.handle_exception(exc))
            idempotency.complete(
                scope=scope, key=key, status_code=response.status_code, body=response.content
            )
            return response


def _check_query_values(request, empty_allowed: tuple[str, ...]) -> None:
    """Query values are ids, slugs, filters and numbers: each follows the identifier rule
    (cynco.ids) and none is empty (but those of `empty_allowed`), as the OpenAPI document
    says."""
    for name, values in request.query_params.lists():
        if not is_identifier_text(name):
            raise ValidationFailed.field(name, "Must not contain control characters.")
        for value in values:
            if not value and name not in empty_allowed:
                raise ValidationFailed.field(name, "Must not be empty.")
            if not is_identifier_text(value):
                raise ValidationFailed.field(name, "Must not contain control characters.")
