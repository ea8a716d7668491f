"""The version of s3batch_mock: its one source (hatch reads it to build the package)."""

__version__ = "0.1.0"
