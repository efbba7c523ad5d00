"""cache.digest: one digest of its parts in order, each length-prefixed."""

from __future__ import annotations

import hashlib

import pytest

from renderer import cache


def _by_hand(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big") + part)
    return hasher.hexdigest()


@pytest.mark.parametrize(
    "parts",
    [(), ("",), ("lint-result/3", "0.1.0", "crd-schema"), (b"\x00\xff", "é"), ("x" * 100_000, b"y")],
    ids=["none", "empty", "strings", "bytes-and-utf8", "large"],
)
def test_a_digest_is_the_sha256_of_its_length_prefixed_parts(parts: tuple[str | bytes, ...]) -> None:
    encoded = [part.encode("utf-8") if isinstance(part, str) else part for part in parts]
    assert cache.digest(*parts) == _by_hand(*encoded)


def test_no_two_splits_of_the_same_bytes_share_a_digest() -> None:
    assert cache.digest("ab", "c") != cache.digest("a", "bc")
    assert cache.digest("abc") != cache.digest("abc", "")
    assert cache.digest("a", "b") == cache.digest(b"a", b"b")


@pytest.mark.parametrize("split", [0, 1, 2, 3])
def test_a_digest_after_spelt_leading_parts_is_the_digest_of_all(split: int) -> None:
    parts = ("rule-results/2", "0.1.0", b"\x00", "é" * 3)
    assert cache.digest_after(cache.spelt(*parts[:split]), *parts[split:]) == cache.digest(*parts)
    assert cache.digest_after(cache.spelt(*parts[:split]), *parts[split:], "") != cache.digest(*parts)
