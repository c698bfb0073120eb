from __future__ import annotations

import pytest

from stigmer.secrets import variable_name
from tests.agents.helpers import KEY, SECRET


@pytest.fixture(autouse=True)
def standin_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The stand-in's key, where the in-process runner's secret source finds it."""
    monkeypatch.setenv(variable_name(SECRET), KEY)
    return KEY
