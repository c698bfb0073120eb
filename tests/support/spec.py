"""The DSL reference, schema, examples and conformance kit, beside the repository.

The tests read them from ../shared/open-workflow-spec. Without it they cannot say whether
the engine follows the spec, so a missing checkout fails the run, loudly, instead of
quietly skipping the conformance kit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "open-workflow-spec"


def spec_path(*parts: str) -> Path:
    """A path inside the spec checkout; fails the test (or its collection) if it is missing."""
    path = SPEC.joinpath(*parts)
    if not path.exists():
        pytest.fail(
            f"the DSL specification is not at {path}: the engine's tests need the checkout "
            "of open-workflow-spec at ../shared/open-workflow-spec (beside the repository)",
            pytrace=False,
        )
    return path
