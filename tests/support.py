"""Helpers shared by tests: fenced code blocks of a Markdown file, unmasked ID numbers in printed text."""

from __future__ import annotations

import re
from pathlib import Path

from ruralcredit.ids import is_resident_id, is_uscc

#: An 18-character resident ID number in the clear: 17 digits and a digit or X check character, not
#: part of a longer code (listing ids, hashes and USCCs carry letters around their digits) nor the
#: digits of a float (``0.012127859194625121``).
RAW_ID = re.compile(r"(?<![0-9A-Za-z.])\d{17}[0-9Xx](?![0-9A-Za-z])")


def raw_ids(text: str) -> list[str]:
    """Unmasked ID numbers in ``text``.

    An all-digit unified social credit code (an organisation's public code, shown unmasked) has the
    same shape; a token that passes the USCC checksum and is no valid resident ID number is one.
    """
    return [t for t in RAW_ID.findall(text) if is_resident_id(t) or not is_uscc(t)]


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
