"""Counts in sentences a person reads: "1 note", "2 notes"."""

from __future__ import annotations


def count(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and ``word``, made plural (by ``plural``, else an added s) unless n is 1."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
