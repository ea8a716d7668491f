"""Every runnable Python example in README.md and docs/*.md runs as its page shows it.

Each ```python block is one test, named ``page:line`` (the line of its opening fence):

- A block that defines ``test_*`` functions or ``Test*`` classes is a test file. It is
  written as ``test_example.py`` into a fresh directory and run by pytest (pytester, in
  this process, with the installed plugin: the ``s3batch`` fixture and marker); it must
  collect at least one test, and every test must pass.
- Any other block is a script. It runs as ``__main__`` (``runpy``) from a fresh
  directory, in a fresh namespace, with no mock active before it starts.
- A block whose first line names a module (``# jobs.py``, ``# batchctl.py: ...``) is
  also saved under that name next to the other examples of its page, which import it;
  ``jobs.py`` (docs/usage.md, "Examples on this page") is there for every page.
- A block that is not meant to run (a fragment: part of a call, a sketch of a shape) is
  marked on the line before its fence with ``<!-- fragment -->`` (or ``<!-- fragment:
  why -->``), which the rendered page does not show. It is not run; a marker that stands
  before anything but a ``python`` fence fails ``test_fragment_markers_sit_on_python_blocks``.

Only ``python`` blocks are candidates: ``bash``, ``console``, ``json``, ``text`` and
other languages' blocks are never run.
"""

from __future__ import annotations

import re
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from s3batch_mock import current_batch

ROOT = Path(__file__).resolve().parent.parent
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
FENCE = re.compile(r"^```(\S*)\s*$")
FRAGMENT = re.compile(r"^<!--\s*fragment(:.*)?-->\s*$")
MODULE = re.compile(r"^#\s*(\w+)\.py\b")
DEFINES_TESTS = re.compile(r"^(?:async\s+def\s+test_|def\s+test_|class\s+Test)\w*", re.M)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    fragment: bool

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def module(self) -> str | None:
        """The module name a block gives on its first line (``# jobs.py``), if any."""
        found = MODULE.match(self.code)
        return found.group(1) if found else None

    @property
    def is_test_file(self) -> bool:
        return DEFINES_TESTS.search(self.code) is not None


def blocks(page: Path) -> list[Block]:
    """Every fenced block of a page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        before = lines[index - 1] if index else ""
        found.append(
            Block(
                page=page,
                line=index + 1,
                language=opening.group(1),
                code="\n".join(lines[index + 1 : end]) + "\n",
                fragment=FRAGMENT.match(before) is not None,
            )
        )
        index = end + 1
    return found


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
PYTHON = [block for block in ALL_BLOCKS if block.language == "python"]
EXAMPLES = [block for block in PYTHON if not block.fragment]


def helper_modules(page: Path) -> dict[str, str]:
    """The modules the examples of ``page`` may import: jobs.py, and the page's own."""
    modules = {
        block.module: block.code
        for block in PYTHON
        if block.module and (block.page == page or block.module == "jobs")
    }
    assert "jobs" in modules, "docs/usage.md defines jobs.py under 'Examples on this page'"
    return modules


def mock_active() -> bool:
    try:
        current_batch()
    except RuntimeError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("block", EXAMPLES, ids=[block.name for block in EXAMPLES])
def test_example_runs(
    block: Block, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = helper_modules(block.page)
    for name, code in modules.items():
        (pytester.path / f"{name}.py").write_text(code, encoding="utf-8")
    assert not mock_active(), "a mock is active before the example starts"
    if block.is_test_file:
        pytester.makepyfile(test_example=block.code)
        # pytest-asyncio warns (and so fails the run) unless its loop scope is set.
        result = pytester.runpytest(
            "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
        )
        outcomes = result.parseoutcomes()
        assert result.ret == pytest.ExitCode.OK, result.stdout.str()
        assert outcomes.get("passed", 0) >= 1, result.stdout.str()
    else:
        script = pytester.path / "example.py"
        script.write_text(block.code, encoding="utf-8")
        monkeypatch.syspath_prepend(pytester.path)
        for name in modules:  # each example imports the helpers fresh
            monkeypatch.delitem(sys.modules, name, raising=False)
        try:
            runpy.run_path(str(script), run_name="__main__")
        finally:
            for name in modules:
                sys.modules.pop(name, None)
    assert not mock_active(), "the example left a mock active"


def test_examples_are_found() -> None:
    """The extraction sees the pages' examples (a changed fence style cannot empty it)."""
    assert any(block.page.name == "README.md" for block in EXAMPLES)
    assert len(EXAMPLES) >= 60
    assert sum(block.is_test_file for block in EXAMPLES) >= 30


def test_fragment_markers_sit_on_python_blocks() -> None:
    """A fragment marker always marks a python block: nothing else is a candidate."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        for index, text in enumerate(lines):
            if FRAGMENT.match(text):
                following = lines[index + 1] if index + 1 < len(lines) else ""
                assert following.startswith("```python"), (
                    f"{page.relative_to(ROOT)}:{index + 1}: a fragment marker must stand "
                    "on the line right before a ```python fence"
                )
