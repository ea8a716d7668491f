"""Functions compiled once per model shape: the validators' and the renderers' cache.

The shapes of a model botocore has loaded live as long as the model, so compiled
functions are kept per shape object (weakly) and go with it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from botocore.model import Shape

__all__ = ["PerShape"]

F = TypeVar("F", bound=Callable[..., None])


class PerShape(Generic[F]):
    """``compile(shape)``, run once per shape and thread-safe, for recursive shapes too."""

    def __init__(self, compile: Callable[[Shape], F]) -> None:
        self._compile = compile
        self._compiled: weakref.WeakKeyDictionary[Shape, F] = weakref.WeakKeyDictionary()
        self._lock = threading.RLock()

    def __call__(self, shape: Shape) -> F:
        found = self._compiled.get(shape)
        if found is not None:
            return found
        with self._lock:
            found = self._compiled.get(shape)
            if found is not None:
                return found
            # A shape that contains itself reaches this one while it is being compiled:
            # it gets a stand-in that calls the finished function.
            done: list[F] = []

            def stand_in(*args: Any) -> None:
                done[0](*args)

            self._compiled[shape] = cast(F, stand_in)
            try:
                compiled = self._compile(shape)
            except BaseException:
                del self._compiled[shape]
                raise
            done.append(compiled)
            self._compiled[shape] = compiled
            return compiled
