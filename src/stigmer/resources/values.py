"""Protobuf messages as plain JSON values.

`google.protobuf.Struct` stores every number as a double, so `2` comes back as `2.0`;
a DSL document or workflow input must keep its integers (`timeout: {seconds: 2}`,
array indexes, counts), so whole numbers are turned back into ints on the way out.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


def to_json(message: Message) -> Any:
    """The message as JSON data, field names as in the .proto, integers as ints."""
    return _ints(json_format.MessageToDict(message, preserving_proto_field_name=True))


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_ints(item) for item in value]
    return value
