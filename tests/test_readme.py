"""The README's example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def test_readme_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "the README has a Python example"
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)
    test = namespace["test_job_runs_to_completion"]
    assert callable(test)
    test()


def test_readme_opens_with_the_two_commands() -> None:
    commands = re.findall(r"```bash\n(.*?)\n```", README.read_text(), re.S)[:2]
    assert commands == [
        "python -m pip install . && python -m s3batch_mock demo",
        'python -m pip install -e ".[test]" && python -m pytest',
    ]
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()
