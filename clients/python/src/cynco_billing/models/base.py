"""The base of every result model: wire names in camelCase, attributes in snake_case."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Model(BaseModel):
    """A result of the API. Fields the server adds after this client was written are kept
    (readable as attributes, and in `model_extra`) rather than refused."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True,
                              validate_by_alias=True, extra="allow")


class Deleted(Model):
    deleted: bool


class Archived(Model):
    archived: bool


class Revoked(Model):
    revoked: bool
