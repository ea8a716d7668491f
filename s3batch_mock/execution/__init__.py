"""What a job does once it runs: its manifest, its tasks, its report.

``_manifests`` reads CSV and inventory manifests and generates them; ``_run`` is the
task loop (``Execution``) over a ``Runtime`` (the object store and the Lambda handlers);
``_operations`` applies the eleven operations to objects, ``_lambdas`` calls the user's
handlers, ``_checksums`` computes checksums, ``_reports`` writes completion reports.
"""

from __future__ import annotations

from ._lambdas import Handler, LambdaRegistry
from ._manifests import GeneratedManifest, ManifestError, open_tasks, split_arn
from ._run import THRESHOLD_CODE, THRESHOLD_REASON, Execution, RunOutcome, Runtime

__all__ = [
    "THRESHOLD_CODE",
    "THRESHOLD_REASON",
    "Execution",
    "GeneratedManifest",
    "Handler",
    "LambdaRegistry",
    "ManifestError",
    "RunOutcome",
    "Runtime",
    "open_tasks",
    "split_arn",
]
