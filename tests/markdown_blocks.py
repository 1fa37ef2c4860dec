"""Fenced code blocks of a Markdown file, for the tests that run what the README and docs/ show."""

from __future__ import annotations

from pathlib import Path


def fenced_blocks(path: Path, info: str) -> list[str]:
    """The fenced code blocks of a Markdown file whose info string is exactly ``info``."""
    blocks: list[str] = []
    current: list[str] | None = None
    tag = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if current is None:
                current, tag = [], line[3:].strip()
            else:
                if tag == info:
                    blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"{path.name}: an unclosed code fence"
    return blocks
