"""Query-string inputs of the ledger reports: dates, periods and sources, strictly parsed.

A bad value is 422 VALIDATION_ERROR naming the parameter, never a 500 or an empty answer.
"""

from __future__ import annotations

import calendar
from datetime import date as Date

from rest_framework import serializers

from cynco.fields import StrictCharField, WholeStringValidator
from cynco.ids import FORBIDDEN_CHARACTERS
from ledger.models import SourceType

ISO_DATE = ["%Y-%m-%d"]


class AsOfQuery(serializers.Serializer):
    asOf = serializers.DateField(required=False, input_formats=ISO_DATE)


class PeriodQuery(serializers.Serializer):
    """`from` and `to`, inclusive dates; `from` may not be after `to`."""

    to = serializers.DateField(required=False, input_formats=ISO_DATE)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, input_formats=ISO_DATE)
        return fields

    def validate(self, values):
        since, until = values.get("from"), values.get("to")
        if since and until and since > until:
            raise serializers.ValidationError({"from": "Must not be after `to`."})
        return values


# A source type, optionally `:<id>` (validate_source); the document shows it as a pattern.
SOURCE = WholeStringValidator(
    rf"^({'|'.join(SourceType.values)})(:[^{FORBIDDEN_CHARACTERS}]+)?$",
    message=f"Must be a source type ({', '.join(SourceType.values)}), optionally followed by "
            ":<id>.",
)


class EntriesQuery(serializers.Serializer):
    period = serializers.RegexField(
        r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": "Must be YYYY-MM with a month from 01 to 12."},
    )
    source = StrictCharField(required=False, max_length=100, validators=[SOURCE])

    def validate_period(self, value: str) -> tuple[Date, Date]:
        year, month = (int(part) for part in value.split("-"))
        if not 1 <= month <= 12 or year < 1:
            raise serializers.ValidationError("Must be YYYY-MM with a month from 01 to 12.")
        return Date(year, month, 1), Date(year, month, calendar.monthrange(year, month)[1])

    def validate_source(self, value: str) -> tuple[str, str | None]:
        source_type, _, source_id = value.partition(":")
        if source_type not in SourceType.values:
            raise serializers.ValidationError(
                f"Must be a source type ({', '.join(SourceType.values)}), "
                "optionally followed by :<id>."
            )
        return source_type, source_id or None


def parsed(serializer_class, request) -> dict:
    """The validated query parameters of `request`, or 422 naming the bad ones."""
    query = serializer_class(data=request.query_params.dict())
    if not query.is_valid():
        raise serializers.ValidationError(query.errors)
    return query.validated_data

