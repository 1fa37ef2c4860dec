"""Small vectorised helpers shared by the signal modules (private)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: At most this many ids are listed in one piece of evidence (the count is always given).
MAX_LISTED = 20


def empty(columns: Sequence[str]) -> pd.DataFrame:
    """An empty signal frame with ``subject_id, subject_type, key`` and the given columns."""
    cols = ["subject_id", "subject_type", "key", *[c for c in columns if c not in ("subject_id", "subject_type",
                                                                                   "key")]]
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})


def best_per(frame: pd.DataFrame, by: Sequence[str], value: str, tie: str) -> pd.DataFrame:
    """One row per ``by`` group: the largest ``value``, ties broken by the smallest ``tie``."""
    if frame.empty:
        return frame
    order = frame.sort_values([*by, value, tie], ascending=[True] * len(by) + [False, True], kind="mergesort")
    return order.drop_duplicates(list(by), keep="first").reset_index(drop=True)


def listed(frame: pd.DataFrame, by: Sequence[str], column: str, *, limit: int = MAX_LISTED) -> pd.DataFrame:
    """Per ``by`` group: the sorted distinct values of ``column`` (at most ``limit``) and their count.

    Returns a frame with the ``by`` columns, ``<column>s`` (a list) and ``n_<column>s``.
    """
    name = column + "s"
    if frame.empty:
        out = frame[list(by)].iloc[:0].copy()
        out[name] = pd.Series([], dtype=object)
        out["n_" + name] = pd.Series([], dtype=np.int64)
        return out
    sub = frame[[*by, column]].dropna().drop_duplicates()
    sub = sub.sort_values([*by, column], kind="mergesort")
    rank = sub.groupby(list(by), sort=False).cumcount().to_numpy()
    counts = sub.groupby(list(by), sort=True).size().rename("n_" + name)
    head = sub.loc[rank < limit]
    lists = head.groupby(list(by), sort=True)[column].agg(list).rename(name)
    out = pd.concat([lists, counts], axis=1).reset_index()
    out["n_" + name] = out["n_" + name].astype(np.int64)
    return out


def window_counts(group: np.ndarray, day: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items per group inside sliding windows of ``window`` days.

    Parameters
    ----------
    group : int array
        Group code of each item.
    day : int array
        Day number of each item.
    window : int
        Window length in days: an item at day ``d`` opens the window ``[d, d + window - 1]``.

    Returns
    -------
    order, count, end : numpy arrays
        ``order`` sorts the items by (group, day); for the i-th sorted item, ``count[i]`` items of its
        group fall in its window, namely sorted items ``i .. end[i] - 1``.
    """
    order = np.lexsort((day, group))
    g = group[order].astype(np.int64)
    d = day[order].astype(np.int64)
    span = int(d.max() - d.min() + window + 1) if len(d) else 1
    combined = g * span + (d - (d.min() if len(d) else 0))
    end = np.searchsorted(combined, combined + (window - 1), side="right")
    return order, end - np.arange(len(order)), end


def segments(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened ranges: (which range, position) for ranges ``starts[i] .. ends[i] - 1``."""
    lengths = np.maximum(ends - starts, 0)
    which = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    pos = starts[which] + (np.arange(lengths.sum()) - first[which])
    return which, pos


def mask_contact(kind: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Phones and devices masked for people to read (``139****5678``); addresses as they are."""
    v = pd.Series(value, dtype=object).astype(str)
    masked = v.str[:3] + "****" + v.str[-4:]
    return np.where(np.asarray(kind) == "address", v.to_numpy(dtype=object), masked.to_numpy(dtype=object))
