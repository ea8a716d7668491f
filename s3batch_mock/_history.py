"""What the pytest plugin keeps of the running test: the backend of each outermost mock.

A module of its own, importing nothing, so the plugin can set it without loading botocore.
"""

from __future__ import annotations

from typing import Any

#: While the pytest plugin collects (a list), every outermost scope's backend of the
#: running test, so a failing test's report can show what its jobs did. None outside
#: pytest: nothing is kept alive after its scope ends.
backends: list[Any] | None = None
