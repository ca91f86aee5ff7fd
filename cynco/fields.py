"""Serializer fields that take JSON types as they are.

DRF's stock fields coerce: `"12"` passes an IntegerField, `"yes"` a BooleanField, `12` a
CharField. The API promises that wrong types are a 422, so input serializers use these.
"""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers

from cynco.ids import HTTP_URL_PATTERN, IDENTIFIER_PATTERN, TEXT_PATTERN

USAGE_PLACES = 6
USAGE_MAX = Decimal("1e14")  # DecimalField(max_digits=20, decimal_places=6)
_DOUBLE_MAX = Decimal(sys.float_info.max)


class WholeStringValidator(RegexValidator):
    """A RegexValidator (so the OpenAPI document shows its `pattern`) that matches the whole
    string: Python's `$` would also match before a final line break."""

    def __call__(self, value):
        if self.regex.fullmatch(str(value)) is None:
            raise DjangoValidationError(self.message, code=self.code)


IDENTIFIER_VALIDATOR = WholeStringValidator(
    IDENTIFIER_PATTERN, message="Must not contain control or invisible formatting characters."
)
TEXT_VALIDATOR = WholeStringValidator(TEXT_PATTERN, message="Must not contain NUL characters.")
HTTP_URL_VALIDATOR = WholeStringValidator(
    HTTP_URL_PATTERN, message="Must be an absolute http:// or https:// URL."
)


class StrictCharField(serializers.CharField):
    """A JSON string taken exactly as sent (never trimmed: what is valid is what the document
    says). By default it follows the identifier rule (cynco.ids); `text=True` for free text
    such as descriptions, which may hold line breaks. Not blank unless `allow_blank`."""

    rule = IDENTIFIER_VALIDATOR

    def __init__(self, *, text: bool = False, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        if not kwargs.get("allow_blank") and "min_length" not in kwargs:
            kwargs["min_length"] = 1
        super().__init__(**kwargs)
        self.validators.append(TEXT_VALIDATOR if text else self.rule)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            data.encode()
        except UnicodeEncodeError:  # a lone surrogate escape (\ud800): not storable text
            self.fail("invalid")
        return super().to_internal_value(data)


class HttpUrlField(StrictCharField):
    """An absolute http(s) URL with a host (cynco.ids.HTTP_URL_PATTERN), taken as sent."""

    rule = HTTP_URL_VALIDATOR


class StrictIntegerField(serializers.IntegerField):
    """An integer given as a JSON integer (not a string, bool or fraction)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, Decimal, float)):
            self.fail("invalid")
        if isinstance(data, (Decimal, float)) and data != int(data):
            self.fail("invalid")
        return super().to_internal_value(int(data))


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class UsageAmountField(serializers.Field):
    """A usage quantity: a JSON number with at most six decimal places, as a Decimal."""

    default_error_messages = {
        "invalid": "Must be a number.",
        "places": f"At most {USAGE_PLACES} decimal places.",
        "range": "Out of range.",
        "min": "Must be at least {min}.",
        "positive": "Must be greater than zero.",
    }

    def __init__(self, *, min_value: Decimal | None = None, positive: bool = False, **kwargs):
        self.min_value = min_value
        self.positive = positive
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, Decimal, float)):
            self.fail("invalid")
        try:
            value = Decimal(str(data)) if isinstance(data, float) else Decimal(data)
        except InvalidOperation:
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        try:
            if value != value.quantize(Decimal(1).scaleb(-USAGE_PLACES)):
                self.fail("places")
        except InvalidOperation:  # too many digits to have six places: far out of range
            self.fail("range")
        if abs(value) >= USAGE_MAX:
            self.fail("range")
        if self.positive and value <= 0:
            self.fail("positive")
        if self.min_value is not None and value < self.min_value:
            self.fail("min", min=self.min_value)
        return value

    def to_representation(self, value):
        return usage_number(value)


def usage_number(value):
    """A Decimal usage amount as the JSON number the client expects (int when whole)."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


class StrictJSONObjectField(serializers.DictField):
    """A JSON object (e.g. `metadata`), of limited size, stored as sent.

    The parser reads fractions as Decimal (cynco.parsers); here they become the JSON numbers
    they were (ints when whole, else doubles), since a JSON column stores no Decimal. A number
    beyond a double's range is refused rather than stored as something else.
    """

    default_error_messages = {
        "too_big": "Must be at most {limit} keys.",
        "number": "Numbers must be within the range of a double (about 1.8e308).",
    }

    def __init__(self, *, max_keys: int = 50, **kwargs):
        self.max_keys = max_keys
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > self.max_keys:
            self.fail("too_big", limit=self.max_keys)
        try:
            return json_numbers(value)
        except OverflowError:
            self.fail("number")


def json_numbers(value):
    """`value` (parsed JSON) with every Decimal as an int or a finite float; OverflowError for
    one a double cannot hold. Nesting is bounded by the parser, so recursion is safe."""
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value) > _DOUBLE_MAX:
            raise OverflowError(str(value))
        return usage_number(value)
    if isinstance(value, dict):
        return {key: json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    return value
