"""A document seen lately is not validated again, and its problems stay the same."""

from __future__ import annotations

import copy

from stigmer.server import definitions
from stigmer.server.definitions import workflow_problems

VALID = {
    "document": {"dsl": "1.0.0", "namespace": "t", "name": "ok", "version": "1.0.0"},
    "do": [{"greet": {"set": {"hello": "world"}}}],
}


def test_problems_are_the_same_the_second_time_and_cannot_be_changed_by_a_caller() -> None:
    invalid = copy.deepcopy(VALID)
    invalid["do"][0]["greet"]["then"] = 12  # type: ignore[index]
    first = workflow_problems(invalid)
    assert first, "a `then` that is a number is refused"
    first.clear()
    assert workflow_problems(copy.deepcopy(invalid)) == workflow_problems(invalid) != []
    assert workflow_problems(VALID) == []


def test_the_remembered_documents_are_bounded() -> None:
    for index in range(definitions.DOCUMENTS_KEPT + 10):
        document = copy.deepcopy(VALID)
        document["document"]["name"] = f"doc-{index}"  # type: ignore[index]
        assert workflow_problems(document) == []
    assert len(definitions._validated) == definitions.DOCUMENTS_KEPT
