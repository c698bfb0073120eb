"""Regenerate src/stigmer/engine/models.py, the typed DSL models, from the official schema.

The models are pydantic classes made by datamodel-code-generator from
src/stigmer/engine/schema/workflow.yaml (a copy of the spec's schema). They type what a
task module reads; the schema itself, through jsonschema, stays the judge of validity.
Four things are adjusted in the schema before generating, each because the generated
models could not express what the engine needs:

- `eventConsumptionStrategy`: `any.until` is an `allOf` of the strategy itself and
  `until: false`; the generator recurses on that without end. The models take it as the
  strategy alone; the schema still refuses a nested `until`.
- `taskList` and `use.functions`: a task in a list is kept as its plain object. The
  interpreter hands each task to its own module, which parses it with its own model;
  a union of every task type would parse every subtree on every run, and it is
  ambiguous (any `call` also matches `CallFunction`).
- the `uri`, `uri-template` and `date-time` formats are plain strings: the engine must
  keep what the author wrote (pydantic's URL type rewrites it, `{petId}` included).

`--check` regenerates in memory and fails if the committed module differs, so CI
catches a schema changed without regenerating.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from datamodel_code_generator import (
    DataModelType,
    InputFileType,
    LiteralType,
    PythonVersion,
    generate,
)
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "src" / "stigmer" / "engine"
SCHEMA = ENGINE / "schema" / "workflow.yaml"
MODELS = ENGINE / "models.py"
HEADER = (
    '"""The DSL\'s typed models, generated from schema/workflow.yaml by scripts/gen_models.py.\n\n'
    "Do not edit: change the script (or the schema) and regenerate.\n"
    '"""\n\n'
    "# ruff: noqa: RUF001\n"
)
PLAIN_STRING_FORMATS = ("uri", "uri-template", "date-time")


def adjusted(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with the adjustments the module docs list."""
    defs = schema["$defs"]
    strategies = defs["eventConsumptionStrategy"]["oneOf"]
    until = next(s for s in strategies if "any" in s["properties"])["properties"]["until"]
    until["oneOf"] = [
        {"$ref": "#/$defs/eventConsumptionStrategy", "title": "AnyEventUntilConsumed"}
        if "allOf" in branch
        else branch
        for branch in until["oneOf"]
    ]
    defs["taskList"] = {
        "title": "TaskList",
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": {"type": "object"},
            "minProperties": 1,
            "maxProperties": 1,
        },
    }
    schema["properties"]["use"]["properties"]["functions"]["additionalProperties"] = {
        "type": "object"
    }
    del defs["task"]
    return schema


def render() -> str:
    """The module's text, formatted as the project formats code."""
    schema = adjusted(YAML(typ="safe", pure=True).load(SCHEMA.read_text("utf-8")))
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "models.py"
        generate(
            json.dumps(schema),
            input_file_type=InputFileType.JsonSchema,
            output=out,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_311,
            class_name="Workflow",
            use_title_as_name=True,
            collapse_root_models=True,
            use_type_alias=True,
            use_annotated=True,
            field_constraints=True,
            use_field_description=False,
            use_schema_description=False,
            disable_timestamp=True,
            formatters=[],
            enum_field_as_literal=LiteralType.All,
            type_mappings=[f"string+{name}=string" for name in PLAIN_STRING_FORMATS],
        )
        text = out.read_text("utf-8")
    body = text[text.index("from __future__") :]
    return _ruff(HEADER + "\n" + body)


def _ruff(text: str) -> str:
    name = str(MODELS.relative_to(ROOT))
    for command in (["check", "--fix-only", "--unsafe-fixes", "--quiet"], ["format"]):
        text = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--stdin-filename", name, "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the models are stale")
    check = parser.parse_args().check
    fresh = render()
    if check:
        if not MODELS.exists() or MODELS.read_text("utf-8") != fresh:
            print(f"stale generated models: {MODELS.relative_to(ROOT)}; run scripts/gen_models.py")
            return 1
        print("generated models are fresh")
        return 0
    MODELS.write_text(fresh, "utf-8")
    print(f"regenerated {MODELS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
