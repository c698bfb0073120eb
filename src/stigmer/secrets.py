"""Where secret values come from, for every worker that needs one.

Highest precedence first:

- the worker's environment: `STIGMER_SECRET_<NAME>`, the secret's name in upper case with
  every character other than a letter or digit written `_` (secret `github-token` is
  `STIGMER_SECRET_GITHUB_TOKEN`); a value that is a JSON object or array is read as one,
  anything else is a string;
- the file `secrets.yaml` in the data dir (`STIGMER_DATA_DIR`), a YAML (or JSON) mapping of
  secret names to values, read on each lookup so edits (and rotations) apply at once.

Values live only in the memory of the activity that uses them; whoever looks one up adds
it to a `stigmer.redaction.Redactor` before using it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

ENV_PREFIX = "STIGMER_SECRET_"
FILE_NAME = "secrets.yaml"


class SecretFileError(ValueError):
    """The secrets file cannot be read as a mapping of names to values."""


def variable_name(name: str) -> str:
    """The environment variable that holds secret `name`."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class SecretStore:
    def __init__(self, data_dir: Path | None = None, environ: Mapping[str, str] | None = None):
        self.file = data_dir / FILE_NAME if data_dir is not None else None
        self.environ = os.environ if environ is None else environ

    def get(self, name: str) -> Any | None:
        """The value of secret `name`, or None when it is nowhere."""
        from_env = self.environ.get(variable_name(name))
        if from_env is not None:
            return _env_value(from_env)
        return self.stored().get(name)

    def stored(self) -> dict[str, Any]:
        """Every secret of the file (none without one)."""
        if self.file is None or not self.file.is_file():
            return {}
        try:
            data = YAML(typ="safe", pure=True).load(self.file.read_text("utf-8"))
        except (OSError, YAMLError) as exc:
            raise SecretFileError(f"cannot read {self.file}: {exc}") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise SecretFileError(f"{self.file} must map secret names to values")
        return {str(k): v for k, v in data.items()}

    def where(self, name: str) -> str:
        """Where secret `name` would be looked up, for an error that says what to do."""
        place = f"set {variable_name(name)}"
        return f"{place} or add it to {self.file}" if self.file is not None else place


def _env_value(text: str) -> Any:
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
