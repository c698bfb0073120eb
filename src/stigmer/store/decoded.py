"""Specs and statuses as protobuf, kept after their first decoding from stored JSON.

Decoding JSON into protobuf is the store's costliest step, and the same row is read again
and again (each Watch wakes on every change). A spec never changes once stored, and a
status never changes without its revision, so `(id)` and `(id, revision)` name their
content exactly, across replicas too. Kept within a byte budget, oldest first out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

BUDGET_BYTES = 32 * 2**20
"""Bytes of encoded messages kept in all."""
LARGEST_KEPT = 256 * 2**10
"""A message larger than this is decoded each time rather than crowd out the rest."""


class Decoded:
    """Encoded messages by a key that names their content for good."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self.size = 0
        self.kept: OrderedDict[Hashable, bytes] = OrderedDict()

    def merge(self, key: Hashable, stored: dict[str, Any], into: Message) -> None:
        """Fill `into` with the message `stored` (its JSON) holds, decoding it once."""
        encoded = self.kept.get(key)
        if encoded is not None:
            self.kept.move_to_end(key)
            into.MergeFromString(encoded)
            return
        json_format.ParseDict(stored, into)
        self.keep(key, into)

    def keep(self, key: Hashable, message: Message) -> None:
        """Remember `message` as the content `key` names."""
        encoded = message.SerializeToString()
        if len(encoded) > LARGEST_KEPT or key in self.kept:
            return
        self.kept[key] = encoded
        self.size += len(encoded)
        while self.size > self.budget:
            _, dropped = self.kept.popitem(last=False)
            self.size -= len(dropped)
