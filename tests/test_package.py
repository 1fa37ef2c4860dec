"""The top-level package: main names re-exported lazily, each the very object of its subpackage."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import ruralcredit


@pytest.mark.parametrize("name", sorted(ruralcredit._EXPORTS))
def test_top_level_name_is_the_subpackage_object(name: str) -> None:
    module = importlib.import_module(ruralcredit._EXPORTS[name])
    assert getattr(ruralcredit, name) is getattr(module, name)
    assert name in getattr(module, "__all__", [name]), f"{name} is not public in {module.__name__}"
    assert name in dir(ruralcredit) and name in ruralcredit.__all__


def test_all_lists_exactly_the_exports() -> None:
    assert set(ruralcredit.__all__) == {"__version__", *ruralcredit._EXPORTS}


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        ruralcredit.no_such_thing  # noqa: B018


def test_import_is_cheap() -> None:
    code = "import sys, ruralcredit; print(sorted(m for m in ('sklearn', 'lightgbm', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
