"""The architecture as docs/architecture.md draws it: each unit imports only lower ones.

Units are the top-level modules and the subpackages (``wire/``, ``execution/``,
``stores/``, ``server/``). Only module-level imports count: an import inside a function
(the moto store, aiobotocore's response class) is taken when it is needed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import s3batch_mock

ROOT = Path(s3batch_mock.__file__).resolve().parent
SUBPACKAGES = ("wire", "execution", "stores", "server")
#: Lowest first: a unit may import units of a lower rank only.
LAYERS: list[tuple[str, ...]] = [
    ("_clock", "_errors", "_text", "_settings", "_partitions", "_history", "_version"),
    ("wire", "stores", "_lifecycle", "_faults"),
    ("execution",),
    ("_jobs",),
    ("_backend",),
    ("_service",),
    ("_dispatch", "_oss", "_controller"),
    ("_hooks", "server"),
    ("_mock",),
    ("plugin", "__main__", "__init__"),
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def imported_units(path: Path) -> set[str]:
    package = ["s3batch_mock", *path.relative_to(ROOT).parent.parts]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:  # module level, TYPE_CHECKING aside
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)]
            module = base + (node.module.split(".") if node.module else [])
        else:
            module = (node.module or "").split(".")
        if module[0] != "s3batch_mock":
            continue
        if len(module) > 1:
            found.add(module[1])
        else:
            found.update(alias.name for alias in node.names if alias.name in RANK)
    return found


FILES = sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_has_a_layer() -> None:
    assert {unit_of(path) for path in FILES} <= set(RANK)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_go_down_only(path: Path) -> None:
    unit = unit_of(path)
    upward = {
        other
        for other in imported_units(path) - {unit}
        if other in RANK and RANK[other] >= RANK[unit]
    }
    assert not upward, f"{path.name} ({unit}) imports {sorted(upward)}, not below it"
