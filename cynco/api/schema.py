"""The OpenAPI document at /api/schema/ (drf-spectacular): how each API view describes itself.

A handler states what it takes and what its `data` is with `@openapi(...)`; `ApiAutoSchema`
(REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) turns that into the operation: the request body, the
query parameters, the success envelope around `data`, the error envelope for each error status,
the tag of its area and which keys may call it. The serializers named here only describe: the
views still parse and build their answers themselves, so nothing on the wire depends on this
module. Response shapes live in `billing/api/shapes/` and `ledger/api/shapes.py`.

    @openapi("invoice_get", data=InvoiceShape, errors=(404,))
    def get(self, request, invoice_id): ...

A handler without `@openapi` still appears (generic envelope, no body), so the document is
complete, just untyped there.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from cynco.api.openapi_parts import (
    AREAS,
    COMPONENT_NAMES,
    ERROR_ENVELOPE,
    ERROR_RESPONSES,
    IDEMPOTENCY_KEY,
    PAGINATION,
)
from cynco.permissions import SecretKeyRequired

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
API_PREFIXES = {"/api/v1/pay/": "", "/api/v1/ledger/": "ledger_"}



@dataclass(frozen=True)
class ListOf:
    """`data` is a plain list of `item` (no pagination)."""

    item: object


@dataclass(frozen=True)
class PageOf:
    """`data` is one page of `item`s, with `pagination` beside it and `limit`/`offset` taken."""

    item: object


@dataclass(frozen=True)
class Operation:
    """What `@openapi` records on a handler. See `openapi` for the fields."""

    name: str
    summary: str = ""
    description: str = ""
    input: object = None
    query: object = ()
    data: object = None
    status: tuple[int, ...] = (200,)
    errors: tuple[int, ...] = field(default=())
    secret_only: bool = False


def openapi(name: str, *, summary: str = "", description: str = "", input=None, query=(),
            data=None, status: int | tuple[int, ...] = 200, errors: tuple[int, ...] = (),
            secret_only: bool = False):
    """Describe one handler in the OpenAPI document (it changes nothing else).

    - `name`: the operationId (unique, snake_case: `customers_list`, `invoice_get`).
    - `input`: the input serializer of the JSON body, or a tuple of them (anyOf).
    - `query`: a serializer whose fields are the query parameters, or a list of
      `OpenApiParameter` (`query_param(...)`).
    - `data`: the serializer of the envelope's `data`, `ListOf(x)` or `PageOf(x)`, or a tuple
      of these when the answer depends on the request (anyOf).
    - `status`: the success status(es), e.g. `(200, 201)` for get-or-create.
    - `errors`: error statuses besides those every operation can answer (401, 422; 403 for
      secret-only views; 409, 413 and 429 for writes).
    - `secret_only`: the handler refuses publishable keys although its view lets them in
      (`require_secret`).
    """
    statuses = status if isinstance(status, tuple) else (status,)

    def decorate(handler):
        handler.openapi = Operation(name, summary, description, input, query, data, statuses,
                                    tuple(errors), secret_only)
        return handler

    return decorate


def query_param(name: str, description: str, *, required: bool = False, enum=None,
                type=OpenApiTypes.STR, pattern: str | None = None, minimum: int | None = None,
                maximum: int | None = None, allow_empty: bool = False) -> OpenApiParameter:
    """A query parameter a view reads by hand from `request.query_params`; `pattern`,
    `minimum` and `maximum` state what the view accepts. `allow_empty` for one the view
    lists in `empty_query_allowed` (cynco.api.views)."""
    if allow_empty:
        type = {"type": "string", "minLength": 0}
    if minimum is not None or maximum is not None:
        type = {"type": "integer", **({"minimum": minimum} if minimum is not None else {}),
                **({"maximum": maximum} if maximum is not None else {})}
    return OpenApiParameter(name, type=type, location=OpenApiParameter.QUERY, required=required,
                            description=description, enum=enum, pattern=pattern)


def choices_param(name: str, description: str, choices) -> OpenApiParameter:
    """A comma-separated list of `choices` (cynco.responses.choices_of)."""
    one = "(" + "|".join(sorted(choices)) + ")"
    return query_param(name, f"{description}: comma-separated, of {', '.join(choices)}.",
                       pattern=f"^{one}(,{one})*$")


def shape(name: str, **fields) -> serializers.Serializer:
    """A small named response shape (`{deleted: true}`, `{url}`), for the document only."""
    return type(name, (serializers.Serializer,), fields)()


DELETED = shape("Deleted", deleted=serializers.BooleanField())
PAGE_PARAMETERS = [
    query_param("limit", "Page size, 1-100.", type=OpenApiTypes.INT),
    query_param("offset", "Items to skip, at least 0.", type=OpenApiTypes.INT),
]


class ApiAutoSchema(AutoSchema):
    """The schema of an `ApiView` handler, read from its `@openapi` Operation."""

    def _operation(self) -> Operation | None:
        handler = getattr(self.view, self.method.lower(), None)
        return getattr(handler, "openapi", None)

    def _api_path(self) -> tuple[str, list[str]]:
        """(operationId prefix, path segments after /api/v1/pay/ or /api/v1/ledger/)."""
        for base, prefix in API_PREFIXES.items():
            if self.path.startswith(base):
                return prefix, [s for s in self.path[len(base):].split("/") if s]
        return "", [s for s in self.path.split("/") if s]

    def get_operation_id(self) -> str:
        operation = self._operation()
        if operation is not None:
            return operation.name
        prefix, segments = self._api_path()
        words = [s.replace("-", "_") for s in segments if not s.startswith("{")]
        return prefix + "_".join([*words, self.method.lower()])

    def get_tags(self) -> list[str]:
        prefix, segments = self._api_path()
        if prefix == "ledger_":
            return ["Ledger"]
        area = segments[0] if segments else ""
        if area not in AREAS:
            warn(f"{self.path}: no tag for '{area}'; add it to AREAS in cynco/api/schema.py")
        return [AREAS.get(area, "Other")]

    def get_summary(self) -> str | None:
        operation = self._operation()
        return operation.summary if operation and operation.summary else None

    def get_description(self) -> str:
        operation = self._operation()
        handler = getattr(self.view, self.method.lower(), None)
        text = (operation.description if operation and operation.description else "") or (
            inspect.cleandoc(handler.__doc__ or self.view.__class__.__dict__.get("__doc__") or ""))
        if operation is not None and operation.secret_only:
            notes = [SecretKeyRequired.described_as]
        else:
            notes = [getattr(p, "described_as", "") for p in self.view.get_permissions()]
        return "\n\n".join(part.strip() for part in (text, *notes) if part and part.strip())

    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        name = COMPONENT_NAMES.get(f"{cls.__module__}.{cls.__qualname__}", cls.__name__)
        return name[: -len("Shape")] if name.endswith("Shape") else name

    def get_request_serializer(self):
        return None  # bodies come from `@openapi(input=…)`; never guessed

    def get_response_serializers(self):
        return None

    def get_override_parameters(self) -> list:
        operation = self._operation()
        parameters = []
        if operation is not None:
            query = operation.query
            parameters.extend(query if isinstance(query, (list, tuple)) else [query])
            if any(isinstance(d, PageOf) for d in self._alternatives(operation.data)):
                parameters.extend(PAGE_PARAMETERS)
        if self.method in MUTATING:
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def _get_request_body(self, direction="request"):
        operation = self._operation()
        if operation is None or operation.input is None:
            return None
        if isinstance(operation.input, tuple):  # which one the query string or a key says
            schema = {"anyOf": [self.resolve_serializer(force_instance(s), direction).ref
                                for s in operation.input]}
            required = True
        else:
            schema, required = self._get_request_for_media_type(operation.input, direction)
            # Rules across fields that the input serializer checks in `validate` (exactly one
            # of two fields, one field only with a given value of another), as JSON Schema.
            rules = getattr(force_instance(operation.input), "body_rules", ())
            if rules:
                schema = {"allOf": [schema, *rules]}
        return {"content": {"application/json": {"schema": schema}}, "required": required}

    def _get_response_bodies(self, direction="response") -> dict:
        operation = self._operation()
        data = operation.data if operation else None
        envelopes, phrases = zip(*(self._envelope(item) for item in self._alternatives(data)))
        # anyOf, not oneOf: an empty page fits every alternative's list.
        schema = envelopes[0] if len(envelopes) == 1 else {"anyOf": list(envelopes)}
        responses = {}
        for status in operation.status if operation else (200,):
            responses[str(status)] = {
                "description": "`data` is " + " or ".join(phrases) + ".",
                "content": {"application/json": {"schema": schema}},
            }
        self._component("Error", ERROR_ENVELOPE)  # what the shared error responses refer to
        for status in sorted(self._error_statuses(operation)):
            name = ERROR_RESPONSES[status][0]
            responses[str(status)] = {"$ref": f"#/components/responses/{name}"}
        return responses

    def _error_statuses(self, operation: Operation | None) -> set[int]:
        statuses = {400, 401, 422, 429, *(operation.errors if operation else ())}
        if (operation is not None and operation.secret_only) or any(
                getattr(p, "can_forbid", True) for p in self.view.get_permissions()):
            statuses.add(403)
        if self.method in MUTATING:
            statuses.update((409, 429))
            if operation is not None and operation.input is not None:
                statuses.add(413)
        return statuses

    @staticmethod
    def _alternatives(data) -> list:
        return list(data) if isinstance(data, tuple) else [data]

    def _envelope(self, data) -> tuple[dict, str]:
        """A `$ref` to the success envelope whose `data` is `data` (registered once), and a
        phrase saying what `data` is."""
        if data is None:
            return self._component("Success", _success({})), "not described yet"
        item = data.item if isinstance(data, (ListOf, PageOf)) else data
        name, item_schema = self._data_schema(item)
        if isinstance(data, PageOf):
            pagination = self._component("Pagination", PAGINATION)
            return self._component(f"{name}Page", _success(
                {"type": "array", "items": item_schema}, pagination=pagination)), (
                f"one page of {name} (with `pagination`)")
        if isinstance(data, ListOf):
            return self._component(f"{name}List", _success(
                {"type": "array", "items": item_schema})), f"a list of {name}"
        return self._component(f"{name}Response", _success(item_schema)), f"a {name}"

    def _data_schema(self, item) -> tuple[str, dict]:
        component = self.resolve_serializer(force_instance(item), "response")
        return component.name, component.ref

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name,
                                      schema=schema)
        self.registry.register_on_missing(component)
        return component.ref


def _success(data: dict, *, pagination: dict | None = None) -> dict:
    schema = {
        "type": "object",
        "properties": {"success": {"type": "boolean", "description": "Always true."},
                       "data": data},
        "required": ["success", "data"],
    }
    if pagination is not None:
        schema["properties"]["pagination"] = pagination
        schema["required"].append("pagination")
    return schema


