"""AWS partitions as botocore knows them: which partition a region is in, and which
host names are AWS's own endpoints (read from botocore's ``partitions.json`` and
``endpoints.json``, so a partition botocore learns is known here too)."""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.loaders

__all__ = ["is_aws_host", "partition_of"]


@functools.cache
def _partitions() -> tuple[tuple[str, re.Pattern[str], frozenset[str]], ...]:
    loader = botocore.loaders.create_loader()
    data: dict[str, Any] = loader.load_data("partitions")
    endpoints: dict[str, Any] = loader.load_data("endpoints")
    suffixes: dict[str, set[str]] = {}
    regions: dict[str, set[str]] = {}
    for partition in data["partitions"]:
        outputs = partition["outputs"]
        suffixes.setdefault(partition["id"], set()).update(
            {outputs["dnsSuffix"], outputs["dualStackDnsSuffix"]}
        )
        regions.setdefault(partition["id"], set()).update(partition.get("regions", {}))
    for partition in endpoints.get("partitions", []):
        found = suffixes.setdefault(partition["partition"], set())
        found.add(partition["dnsSuffix"])
        for variant in partition.get("defaults", {}).get("variants", []):
            if "dnsSuffix" in variant:
                found.add(variant["dnsSuffix"])
    table = []
    for partition in data["partitions"]:
        pid = partition["id"]
        table.append((pid, re.compile(partition["regionRegex"]), frozenset(suffixes[pid])))
    return tuple(table)


@functools.cache
def partition_of(region: str) -> str:
    """The partition of ``region`` (``aws`` for a region no partition claims)."""
    for pid, pattern, _ in _partitions():
        if pattern.match(region):
            return pid
    return "aws"


@functools.cache
def _suffixes() -> tuple[str, ...]:
    return tuple(sorted({s for _, _, found in _partitions() for s in found}))


def is_aws_host(host: str) -> bool:
    """Whether ``host`` (no port) is one of AWS's own endpoints in any partition."""
    host = host.rstrip(".").lower()
    return any(host == suffix or host.endswith("." + suffix) for suffix in _suffixes())
