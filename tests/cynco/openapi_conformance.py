"""Checking real API answers against the OpenAPI document (cynco.api.schema).

`Conformance(document).check(method, path, response)` finds the operation of a concrete path,
takes the response the document gives for the answer's status (an undocumented status fails)
and validates the body with JSON Schema. The document's OpenAPI 3.0 schemas are turned into
plain JSON Schema first: `$ref`s resolved, `nullable` as a `null` alternative, and every object
that lists its properties closed (`additionalProperties: false`), so a key the document does
not name fails as surely as a missing or mistyped one.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from jsonschema import Draft4Validator, FormatChecker

DROPPED_KEYS = ("nullable", "readOnly", "writeOnly", "example", "discriminator")

formats = FormatChecker(formats=())


@formats.checks("date-time", raises=ValueError)
def _is_datetime(value) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))


@formats.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value))


def json_schema(node, components: dict):
    """`node` (an OpenAPI 3.0 schema) as a self-contained, closed JSON Schema (draft 4)."""
    if isinstance(node, list):
        return [json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(components["schemas"][node["$ref"].rsplit("/", 1)[1]], components)
    schema = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            schema[key] = {name: json_schema(sub, components) for name, sub in value.items()}
        elif key in ("enum", "required", "default"):
            schema[key] = value
        elif key not in DROPPED_KEYS:
            schema[key] = json_schema(value, components)
    if "properties" in schema and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


class Conformance:
    """Validates answers against `document` and remembers which operations answered 2xx."""

    def __init__(self, document: dict):
        self.document = document
        self.answered: set[tuple[str, str]] = set()
        self._templates = [
            (re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"),
             template)
            for template in document["paths"]
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        path = path.split("?", 1)[0]
        for pattern, template in self._templates:
            operation = self.document["paths"][template].get(method.lower())
            if pattern.match(path) and operation is not None:
                return template, operation
        raise AssertionError(f"{method} {path} is not in the document")

    def check(self, method: str, path: str, response) -> None:
        template, operation = self.operation(method, path)
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        assert documented is not None, (
            f"{method} {template} answered {status}, which the document does not list "
            f"({sorted(operation['responses'])}): {response.content[:300]!r}")
        if "$ref" in documented:
            documented = self.document["components"]["responses"][
                documented["$ref"].rsplit("/", 1)[1]]
        schema = json_schema(documented["content"]["application/json"]["schema"],
                             self.document["components"])
        errors = sorted(Draft4Validator(schema, format_checker=formats).iter_errors(
            response.json()), key=lambda e: list(e.absolute_path))
        assert not errors, (
            f"{method} {path} ({status}) does not match {operation['operationId']}:\n"
            + "\n".join(f"  at {list(e.absolute_path)}: {e.message[:300]}" for e in errors[:10]))
        if status.startswith("2"):
            self.answered.add((method.lower(), template))


class CheckedApi:
    """An `Api` (tests.factories) whose every answer is checked against the document."""

    def __init__(self, api, conformance: Conformance):
        self.api, self.conformance = api, conformance

    def call(self, method: str, path: str, body=None, **kwargs):
        response = self.api.call(method, path, body, **kwargs)
        self.conformance.check(method, path, response)
        return response

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.call("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.call("PATCH", path, body, **kwargs)

    def delete(self, path, body=None, **kwargs):
        return self.call("DELETE", path, body, **kwargs)
