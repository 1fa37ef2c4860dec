"""The command line's progress bar: one line per step in logs, one redrawn line on a terminal."""

from __future__ import annotations

import io
import re

import pytest

from ruralcredit._progress import ProgressBar


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_count_towards_the_total() -> None:
    out = io.StringIO()
    bar = ProgressBar(3, stream=out)
    for msg in ("validating", "scoring", "rating"):
        bar(msg)
    bar.close()
    lines = out.getvalue().splitlines()
    assert [re.match(r"\s*\[(.*?)\]", ln).group(1) for ln in lines] == ["1/3", "2/3", "3/3"]
    assert lines[1].endswith("scoring") and re.search(r"\d+\.\d s", lines[1])
    assert "\r" not in out.getvalue()


def test_terminal_redraws_one_line_with_a_bar() -> None:
    out = _Tty()
    bar = ProgressBar(4, stream=out)
    bar("a")
    bar("b")
    text = out.getvalue()
    assert text.count("\r") == 2 and "\n" not in text
    assert "[##########..........] 2/4" in text
    bar.close()
    assert out.getvalue().endswith("\n")


def test_a_short_estimate_grows_instead_of_overflowing() -> None:
    out = io.StringIO()
    bar = ProgressBar(1, stream=out)
    bar("one")
    bar("two")
    assert bar.total == 2 and "[2/2]" in out.getvalue()


def test_without_total_it_counts() -> None:
    out = _Tty()
    bar = ProgressBar(stream=out)
    bar("x")
    assert "[" + "#" * 20 + "] 1" in out.getvalue()
    with pytest.raises(ValueError):
        ProgressBar(-1)
