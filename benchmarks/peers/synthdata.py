"""Synthetic credit data shared by every tool in the peer benchmark (numpy + pandas + pyarrow only).

This module is imported both by the library's own environment and by the peers' environments, so
it must not import ruralcredit. ``make_data(n_rows, n_features, seed)`` is deterministic: the same
arguments give the same frame in every environment (numpy's PCG64 stream is stable across versions).

Layout for ``n_features=30``: 24 numeric features (``num_00`` ... ``num_23``: lognormal incomes,
gamma land areas, Poisson counts, bounded ratios, normals; every third one has 3-15% missing values)
and 6 categorical ones (``cat_0`` ... ``cat_5``, strings with 3 to 40 levels and Zipf-like
frequencies; ``cat_1`` has missing values), plus ``target`` (int 0/1, about 10% events) drawn from a
logistic latent model in which two thirds of the features matter, some non-linearly (log,
thresholds, a U-shape) and missingness itself carries risk.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

TARGET = "target"
_CAT_LEVELS = (3, 5, 8, 12, 20, 40)


def split_features(n_features: int) -> tuple[int, int]:
    """(numeric, categorical) counts: one feature in five is categorical, at least one of each."""
    n_cat = max(1, round(n_features / 5))
    return n_features - n_cat, n_cat


def make_data(n_rows: int, n_features: int = 30, seed: int = 0) -> pd.DataFrame:
    """A synthetic frame of ``n_features`` mixed features and a binary ``target`` (1 = default).

    Parameters
    ----------
    n_rows : int
    n_features : int, default 30
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        Numeric columns float64 (NaN = missing), categorical columns strings (None = missing),
        ``target`` int8.
    """
    if n_rows < 10 or n_features < 2:
        raise ValueError("need at least 10 rows and 2 features")
    rng = np.random.default_rng(seed)
    n_num, n_cat = split_features(n_features)
    cols: dict[str, np.ndarray] = {}
    logit = np.zeros(n_rows)
    for j in range(n_num):
        kind = j % 6
        if kind == 0:  # income-like, effect through the log
            x = rng.lognormal(mean=9.5 + 0.1 * (j % 4), sigma=0.9, size=n_rows)
            effect = -0.45 * (np.log(x) - 9.5)
        elif kind == 1:  # land area in mu
            x = rng.gamma(shape=2.0, scale=3.0 + j % 3, size=n_rows)
            effect = -0.08 * np.minimum(x, 25.0)
        elif kind == 2:  # counts (overdue months, inquiries): a threshold effect
            x = rng.poisson(lam=0.6 + 0.2 * (j % 3), size=n_rows).astype(np.float64)
            effect = 0.55 * (x >= 2) + 0.35 * (x >= 4)
        elif kind == 3:  # a bounded ratio (debt to income)
            x = rng.beta(2.0, 5.0, size=n_rows)
            effect = 2.2 * (x - 0.28)
        elif kind == 4:  # age-like, U-shaped risk
            x = np.round(rng.normal(45.0, 11.0, size=n_rows).clip(18, 80))
            effect = 0.0012 * (x - 45.0) ** 2 - 0.12
        else:  # noise
            x = rng.normal(0.0, 1.0, size=n_rows)
            effect = np.zeros(n_rows)
        if j >= 2 * n_num // 3:  # the last third carries no signal
            effect = np.zeros(n_rows)
        if j % 3 == 2:
            miss = rng.random(n_rows) < 0.03 + 0.04 * (j % 4)
            x = x.copy()
            x[miss] = np.nan
            effect = np.where(miss, 0.4, effect)  # not answering is itself informative
        cols[f"num_{j:02d}"] = x
        logit += effect
    for k in range(n_cat):
        levels = _CAT_LEVELS[k % len(_CAT_LEVELS)]
        freq = 1.0 / np.arange(1, levels + 1) ** 0.8
        codes = rng.choice(levels, size=n_rows, p=freq / freq.sum())
        labels = np.array([f"c{k}_{i:02d}" for i in range(levels)], dtype=object)
        values = labels[codes]
        level_effect = rng.normal(0.0, 0.35, size=levels) if k < 2 * n_cat // 3 + 1 else np.zeros(levels)
        effect = level_effect[codes]
        if k == 1:
            miss = rng.random(n_rows) < 0.08
            values = values.copy()
            values[miss] = None
            effect = np.where(miss, 0.3, effect)
        cols[f"cat_{k}"] = values
        logit += effect
    # Centre and set the intercept for about 10% events.
    logit = logit - logit.mean()
    p = 1.0 / (1.0 + np.exp(-(logit - 2.9)))
    target = (rng.random(n_rows) < p).astype(np.int8)
    frame = pd.DataFrame(cols)
    for k in range(n_cat):
        frame[f"cat_{k}"] = frame[f"cat_{k}"].astype(object)
    frame[TARGET] = target
    return frame


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("num_")]


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("cat_")]


def data_path(directory: Path, n_rows: int, n_features: int, seed: int) -> Path:
    return Path(directory) / f"synth_n{n_rows}_f{n_features}_s{seed}.parquet"


def ensure_parquet(directory: Path, n_rows: int, n_features: int, seed: int) -> Path:
    """Write the data set once (Parquet) and return its path."""
    path = data_path(directory, n_rows, n_features, seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        make_data(n_rows, n_features, seed).to_parquet(tmp, index=False)
        tmp.replace(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--features", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=Path("benchmarks/out/peers-data"))
    args = ap.parse_args()
    print(ensure_parquet(args.dir, args.rows, args.features, args.seed))


if __name__ == "__main__":
    main()
