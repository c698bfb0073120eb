"""Regenerate the Python stubs of src/stigmer/api/v1/*.proto.

`--check` regenerates into a scratch folder and fails if the committed stubs differ,
so CI catches a .proto edited without regenerating.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
API = SRC / "stigmer" / "api" / "v1"
BIN = Path(sys.executable).parent
GENERATED = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def generate(out: Path) -> None:
    protos = sorted(str(p.relative_to(SRC)) for p in API.glob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{SRC}",
        f"-I{include}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def stubs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(GENERATED))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the stubs are stale")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        fresh = Path(scratch) / "stigmer" / "api" / "v1"
        if check:
            names = stubs(fresh)
            stale = [n for n in names if not (API / n).exists()]
            stale += [
                n
                for n in names
                if (API / n).exists() and not filecmp.cmp(fresh / n, API / n, shallow=False)
            ]
            if stale or names != stubs(API):
                print(f"stale generated stubs: {stale or stubs(API)}; run scripts/gen_protos.py")
                return 1
            print("generated stubs are fresh")
            return 0
        for name in stubs(fresh):
            shutil.copy(fresh / name, API / name)
    print(f"regenerated {', '.join(stubs(API))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
