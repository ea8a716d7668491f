"""Object checksums as S3 computes them: base64 of the big-endian digest.

CRC32 comes from zlib and the SHA/MD5 family from hashlib. CRC32C and CRC64NVME
are table-driven here (botocore only has them with the optional awscrt), and the
XXHASH family needs the ``xxhash`` package, used when installed.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import zlib
from collections.abc import Callable, Iterable
from functools import cache
from typing import IO

__all__ = ["UnsupportedAlgorithm", "checksum", "checksum_hex"]

_CHUNK = 1 << 16


class UnsupportedAlgorithm(Exception):
    """The algorithm needs a package that is not installed."""


@cache
def _crc_table(polynomial: int, width: int) -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ polynomial if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return tuple(table)


def _reflected_crc(polynomial: int, width: int) -> Callable[[Iterable[bytes]], bytes]:
    mask = (1 << width) - 1

    def compute(chunks: Iterable[bytes]) -> bytes:
        table = _crc_table(polynomial, width)
        crc = mask
        for chunk in chunks:
            for byte in chunk:
                crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
        return (crc ^ mask).to_bytes(width // 8, "big")

    return compute


def _crc32(chunks: Iterable[bytes]) -> bytes:
    crc = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
    return crc.to_bytes(4, "big")


def _hashlib(name: str) -> Callable[[Iterable[bytes]], bytes]:
    def compute(chunks: Iterable[bytes]) -> bytes:
        digest = hashlib.new(name, usedforsecurity=False)
        for chunk in chunks:
            digest.update(chunk)
        return digest.digest()

    return compute


def _xxhash(name: str) -> Callable[[Iterable[bytes]], bytes]:
    def compute(chunks: Iterable[bytes]) -> bytes:
        try:
            module = importlib.import_module("xxhash")
        except ImportError:
            raise UnsupportedAlgorithm(
                f"{name.upper()} needs the xxhash package: pip install xxhash"
            ) from None
        digest = getattr(module, name)()
        for chunk in chunks:
            digest.update(chunk)
        return bytes(digest.digest())

    return compute


_ALGORITHMS: dict[str, Callable[[Iterable[bytes]], bytes]] = {
    "CRC32": _crc32,
    "CRC32C": _reflected_crc(0x82F63B78, 32),
    "CRC64NVME": _reflected_crc(0x9A6C9329AC4BC9B5, 64),
    "MD5": _hashlib("md5"),
    "SHA1": _hashlib("sha1"),
    "SHA256": _hashlib("sha256"),
    "SHA512": _hashlib("sha512"),
    "XXHASH64": _xxhash("xxh64"),
    "XXHASH3": _xxhash("xxh3_64"),
    "XXHASH128": _xxhash("xxh3_128"),
}


def checksum(algorithm: str, chunks: Iterable[bytes]) -> str:
    """The base64 checksum of the concatenated chunks."""
    return base64.b64encode(_ALGORITHMS[algorithm](chunks)).decode("ascii")


def checksum_hex(value: str) -> str:
    """The lower-case hex form of a base64 checksum; a composite's ``-<parts>``
    suffix is kept as it is (``"y/Q5Jg==-1"`` -> ``"cbf43926-1"``)."""
    digest, dash, parts = value.partition("-")
    return base64.b64decode(digest).hex() + dash + parts


def read_chunks(stream: IO[bytes]) -> Iterable[bytes]:
    """Chunks of a binary stream, so large bodies are never read whole."""
    while chunk := stream.read(_CHUNK):
        yield chunk
