"""Save and load fitted scorers as one self-checking JSON file (模型持久化).

A model file is a single UTF-8 JSON document::

    {
     "format": "ruralcredit-model",
     "format_version": 1,
     "checksum": "sha256:<hex>",
     "metadata": {...},
     "payload": ...
    }

``metadata`` holds what an auditor or a model registry needs without loading the model: the
library version that wrote it, the scorer class, how the payload is encoded, the features, the
scaling and a model summary where the scorer exposes them, a hash of the training data and the
metrics when given, the creation time, the Python/numpy/pandas/scikit-learn versions and the
caller's own metadata. ``payload`` is the scorer's state: plain JSON from the scorer's
``to_dict()`` when it has one (the compiled scorecard does), else a base64 ``joblib`` pickle.

The checksum is SHA-256 over the canonical JSON (sorted keys, no whitespace) of everything except
the checksum itself, so any change to the content -- a digit of a point, a feature name, the
version -- is caught on :func:`load` with :class:`~ruralcredit.errors.ModelFileError`. (It
detects changes; it does not authenticate the writer. Load pickled payloads only from files you
trust, or pass ``allow_pickle=False``.) Floats are written with ``repr`` precision, so a reloaded
scorer reproduces its scores bit for bit; ``NaN`` and ``Infinity`` use Python's JSON extension.

The saveable-scorer protocol
----------------------------
A scorer class is saveable as pure JSON when it implements :class:`SaveableScorer`:

* ``to_dict(self) -> dict``: its complete state as JSON-able values (str, int, float, bool, None,
  lists, dicts with string keys), enough to rebuild it exactly;
* ``from_dict(cls, data) -> instance`` (a classmethod): the inverse;
* optionally ``model_summary(self) -> dict``: a JSON-able summary (bins, points, scaling) copied into
  the metadata for people and registries to read.

Any other picklable scorer is saved with joblib. Either way, :func:`load` rebuilds only classes it
trusts: classes of the ``ruralcredit`` package itself (looked up by module and name), and classes a
caller registered with :func:`register_scorer` (a decorator) before loading. A file naming any other
class raises :class:`~ruralcredit.errors.ModelFileError`; no module outside ``ruralcredit`` is
imported on a file's say-so.

Versions: a file written by a newer *major* library version than the running one, or in a newer
file format, is refused with a :class:`~ruralcredit.errors.ModelFileError` naming both versions.

Examples
--------
>>> import tempfile, pathlib
>>> from ruralcredit.models import CompiledFeature, CompiledScorecard, save, load
>>> card = CompiledScorecard(
...     features=(CompiledFeature("income", "numeric", edges=(1000.0,), points=(0.0, 10.0)),),
...     base_points=50.0,
... )
>>> path = pathlib.Path(tempfile.mkdtemp()) / "card.rcmodel.json"
>>> _ = save(card, path, metrics={"auc": 0.71})
>>> load(path).score_record({"income": 2000.0})[0]
60.0
>>> read_metadata(path)["metrics"]
{'auc': 0.71}
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import importlib
import io
import json
import os
import platform
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError, ModelError, ModelFileError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "SaveableScorer",
    "load",
    "read_metadata",
    "register_scorer",
    "save",
]

#: The ``format`` tag of a model file.
FORMAT = "ruralcredit-model"
#: The newest file-format version this library reads and the one it writes.
FORMAT_VERSION = 1

_REGISTRY: dict[str, type] = {}
_TRUSTED_PACKAGE = "ruralcredit"
T = TypeVar("T", bound=type)


@runtime_checkable
class SaveableScorer(Protocol):
    """What a scorer implements to be saved as pure JSON (see the module docstring)."""

    def to_dict(self) -> dict[str, Any]:
        """The scorer's complete state as JSON-able values."""
        ...

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Rebuild a scorer from :meth:`to_dict` output."""
        ...


def _class_key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register_scorer(cls: T) -> T:
    """Trust a scorer class outside the ``ruralcredit`` package for :func:`load`; usable as a decorator.

    Parameters
    ----------
    cls : type
        A class defined at module level (so that its name identifies it).

    Returns
    -------
    type
        ``cls`` itself.

    Raises
    ------
    InputError
        Not a class, or a class defined inside a function.
    """
    if not isinstance(cls, type):
        raise InputError("must be a class", argument="cls", value=repr(cls))
    if "<locals>" in cls.__qualname__:
        raise InputError(
            f"class {cls.__qualname__} is defined inside a function and cannot be found again on load",
            argument="cls",
        )
    _REGISTRY[_class_key(cls)] = cls
    return cls


def _resolve_class(key: str, file: str) -> type:
    """The trusted class a file names, or ModelFileError."""
    if key in _REGISTRY:
        return _REGISTRY[key]
    if key.startswith(_TRUSTED_PACKAGE + "."):
        parts = key.split(".")
        # Longest importable module prefix inside the package, then attributes (nested classes).
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            try:
                obj: Any = importlib.import_module(module_name)
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            if isinstance(obj, type):
                return obj
            break
    raise ModelFileError(
        f"unknown scorer class {key!r}: it is neither a ruralcredit class nor registered with "
        "ruralcredit.models.register_scorer",
        file=file,
    )


# ------------------------------------------------------------------------------------------- helpers


def _json_default(obj: Any) -> Any:
    """JSON encoding of numpy and pandas values that a scorer's state may contain."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (pd.Timestamp, _dt.datetime, _dt.date)):
        return obj.isoformat()
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _canonical(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode(
        "utf-8"
    )


def _checksum(doc: Mapping[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()


def _major(version: str) -> int | None:
    head = str(version).split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _library_version() -> str:
    import ruralcredit  # at call time: the package imports models, not the other way round

    return str(ruralcredit.__version__)


def _hash_training_data(data: Any) -> dict[str, Any]:
    """A content hash of the training data (order-sensitive, index included for frames)."""
    if isinstance(data, str):
        return {"algorithm": "given", "value": data}
    h = hashlib.sha256()
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if isinstance(data, pd.DataFrame):
        h.update(json.dumps([str(c) for c in data.columns]).encode())
        h.update(json.dumps([str(t) for t in data.dtypes]).encode())
        h.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
        return {
            "algorithm": "sha256 over columns, dtypes and pandas.util.hash_pandas_object(index=True)",
            "value": h.hexdigest(),
            "rows": int(len(data)),
            "columns": [str(c) for c in data.columns],
        }
    arr = np.ascontiguousarray(data)
    if arr.dtype == object:
        raise InputError("an object array cannot be hashed; pass a DataFrame", argument="training_data")
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return {
        "algorithm": "sha256 over dtype, shape and bytes",
        "value": h.hexdigest(),
        "rows": int(arr.shape[0]),
    }


def _features_of(scorer: Any) -> list[str] | None:
    for attr in ("feature_names", "feature_names_in_", "features_"):
        try:
            value = getattr(scorer, attr)
        except Exception:  # an unfitted estimator's property may raise anything
            continue
        if value is None:
            continue
        try:
            names = [str(v) for v in value]
        except TypeError:
            continue
        if names:
            return names
    return None


def _scaling_of(scorer: Any) -> dict[str, float] | None:
    out = {}
    for attr in ("pdo", "base_score", "base_odds", "base_points"):
        value = getattr(scorer, attr, None)
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            out[attr] = float(value)
    return out or None


def _jsonable(value: Any, argument: str) -> Any:
    """``value`` after a JSON round trip (so that what is hashed is what is read back)."""
    try:
        return json.loads(json.dumps(value, default=_json_default, allow_nan=True, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be JSON-serialisable: {exc}", argument=argument) from exc


# ---------------------------------------------------------------------------------------------- save


def save(
    scorer: Any,
    path: str | os.PathLike[str],
    *,
    metadata: Mapping[str, Any] | None = None,
    training_data: Any = None,
    metrics: Mapping[str, Any] | None = None,
) -> Path:
    """Write a fitted scorer to one JSON model file (atomically: a crash leaves no half file).

    Parameters
    ----------
    scorer : object
        A fitted scorer: one implementing :class:`SaveableScorer` is stored as JSON, any other
        picklable one with joblib. Its class must be importable by name (module level).
    path : str or path-like
        The file to write (suggested suffix ``.rcmodel.json``); an existing file is replaced.
    metadata : mapping, optional
        The caller's own JSON-able metadata (stored under ``metadata["user"]``).
    training_data : DataFrame, ndarray or str, optional
        The training data, whose SHA-256 content hash is recorded (or an already computed hash).
    metrics : mapping, optional
        Validation metrics to record (e.g. ``{"auc": 0.74, "ks": 0.38}``).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ModelError
        The scorer cannot be serialised (``to_dict`` output not JSON-able, not picklable) or its
        class cannot be found by name.
    InputError
        ``metadata`` / ``metrics`` not JSON-able.
    """
    cls = type(scorer)
    if "<locals>" in cls.__qualname__:
        raise ModelError(
            f"scorer class {cls.__qualname__} is defined inside a function; it cannot be loaded again"
        )
    if isinstance(scorer, type):
        raise ModelError("save a fitted scorer instance, not a class")
    key = _class_key(cls)
    if hasattr(scorer, "to_dict") and hasattr(cls, "from_dict"):
        try:
            payload = json.loads(
                json.dumps(scorer.to_dict(), default=_json_default, allow_nan=True, ensure_ascii=False)
            )
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{key}.to_dict() is not JSON-serialisable: {exc}") from exc
        encoding = "json"
    else:
        import joblib

        buf = io.BytesIO()
        try:
            joblib.dump(scorer, buf)
        except Exception as exc:  # pickling failures come in many types
            raise ModelError(f"cannot pickle scorer {key}: {exc}") from exc
        payload = base64.b64encode(buf.getvalue()).decode("ascii")
        encoding = "joblib-base64"

    summary = None
    if callable(getattr(scorer, "model_summary", None)):
        try:
            summary = json.loads(json.dumps(scorer.model_summary(), default=_json_default, allow_nan=True))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{key}.model_summary() is not JSON-serialisable: {exc}") from exc

    import sklearn

    meta: dict[str, Any] = {
        "library": "ruralcredit",
        "library_version": _library_version(),
        "scorer_class": key,
        "payload_encoding": encoding,
        "features": _features_of(scorer),
        "scaling": _scaling_of(scorer),
        "summary": summary,
        "training_data": None if training_data is None else _hash_training_data(training_data),
        "metrics": None if metrics is None else _jsonable(dict(metrics), "metrics"),
        "user": None if metadata is None else _jsonable(dict(metadata), "metadata"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    # Hash exactly what a reader will parse back (e.g. integer dict keys become strings).
    doc: dict[str, Any] = _jsonable(
        {"format": FORMAT, "format_version": FORMAT_VERSION, "metadata": meta, "payload": payload}, "metadata"
    )
    checksum = _checksum(doc)
    doc = {"format": doc["format"], "format_version": doc["format_version"], "checksum": checksum, **doc}
    # Key order is kept as the scorer gave it (a scorer may add features up in dict order); only
    # the checksum uses sorted keys.
    text = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=True)

    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a directory; give a file path", argument="path", value=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# ---------------------------------------------------------------------------------------------- load


def _read_document(path: str | os.PathLike[str]) -> tuple[dict[str, Any], str]:
    """Parse, check the checksum and the versions; return the document and the file name."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"cannot read: {exc}", file=file) from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"not a ruralcredit model file (invalid JSON: {exc})", file=file) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"not a ruralcredit model file (no 'format': {FORMAT!r})", file=file)
    if set(doc) != {"checksum", "format", "format_version", "metadata", "payload"}:
        raise ModelFileError(f"unexpected top-level keys {sorted(doc)}", file=file)
    if doc.get("checksum") != _checksum(doc):
        raise ModelFileError(
            "checksum mismatch: the file was changed after it was written (tampered or corrupted)", file=file
        )
    meta = doc["metadata"]
    if not isinstance(meta, dict):
        raise ModelFileError("metadata is not an object", file=file)
    current = _library_version()
    written = str(meta.get("library_version", "?"))
    fmt = doc["format_version"]
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION or fmt < 1:
        raise ModelFileError(
            f"file format version {fmt!r} (written by ruralcredit {written}) is not supported by "
            f"ruralcredit {current}, which reads format version {FORMAT_VERSION}",
            file=file,
        )
    w_major, c_major = _major(written), _major(current)
    if w_major is None or (c_major is not None and w_major > c_major):
        raise ModelFileError(
            f"written by ruralcredit {written}, a newer major version than this ruralcredit {current}; "
            "upgrade ruralcredit to load it",
            file=file,
        )
    return doc, file


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of a model file, after checking its checksum and version (the model is not built).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    dict
        See the module docstring for its keys.

    Raises
    ------
    ModelFileError
        Unreadable, not a model file, tampered with, or of an incompatible version.
    """
    doc, _ = _read_document(path)
    return doc["metadata"]


def load(path: str | os.PathLike[str], *, allow_pickle: bool = True) -> Any:
    """Rebuild a scorer saved with :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The model file.
    allow_pickle : bool, default True
        Whether a joblib (pickle) payload may be loaded. Unpickling runs code from the file: keep
        it True only for files you trust (the checksum detects corruption, not a forger).

    Returns
    -------
    object
        The scorer, an instance of the class recorded in the file, scoring exactly as when saved.

    Raises
    ------
    ModelFileError
        Unreadable or not a model file; checksum mismatch (tampered); written by a newer major
        version or file format; an unknown (untrusted) scorer class; a pickle payload with
        ``allow_pickle=False``; or a payload the class cannot rebuild.
    """
    doc, file = _read_document(path)
    meta = doc["metadata"]
    cls = _resolve_class(str(meta.get("scorer_class")), file)
    encoding = meta.get("payload_encoding")
    if encoding == "json":
        from_dict: Callable[[Any], Any] | None = getattr(cls, "from_dict", None)
        if from_dict is None:
            raise ModelFileError(
                f"class {_class_key(cls)} has no from_dict() to rebuild a JSON payload", file=file
            )
        try:
            scorer = from_dict(doc["payload"])
        except (ModelError, InputError, KeyError, TypeError, ValueError, AttributeError) as exc:
            # The checksum passed, so the content is as written: a class that cannot rebuild it is
            # incompatible with this file.
            raise ModelFileError(
                f"{_class_key(cls)}.from_dict() rejected the payload: {exc!r}", file=file
            ) from exc
    elif encoding == "joblib-base64":
        if not allow_pickle:
            raise ModelFileError("the payload is a pickle and allow_pickle=False", file=file)
        import joblib

        try:
            raw = base64.b64decode(doc["payload"], validate=True)
            scorer = joblib.load(io.BytesIO(raw))
        except Exception as exc:  # unpickling fails in many ways
            raise ModelFileError(f"cannot unpickle the payload: {exc}", file=file) from exc
    else:
        raise ModelFileError(f"unknown payload encoding {encoding!r}", file=file)
    if type(scorer) is not cls:
        raise ModelFileError(
            f"payload rebuilt a {_class_key(type(scorer))}, but the file says {_class_key(cls)}", file=file
        )
    return scorer
