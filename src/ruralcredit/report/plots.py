"""Plots for the county report, drawn headless and returned as PNG bytes.

Every plot is drawn on a :class:`matplotlib.figure.Figure` rendered by the Agg canvas, without
``matplotlib.pyplot``: nothing here switches the caller's global backend (a notebook importing the
report keeps its inline plots), no figure is left registered with pyplot, and drawing is safe from
several threads.

Text in plots: labels are English. Chinese area or group names are used only when a CJK font is
installed (:func:`cjk_font`); otherwise an ASCII fallback (the area code, ``group 3``) is drawn and the
HTML next to the plot carries the Chinese names, so matplotlib never warns about missing glyphs.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import roc_curve

__all__ = [
    "GRADE_COLOURS",
    "SEVERITY_COLOURS",
    "bar_counts",
    "cjk_font",
    "fairness_ratios",
    "grade_mix",
    "ks_curve",
    "label",
    "psi_bins",
    "psi_features",
    "roc",
    "score_histogram",
    "severity_bars",
]

#: Colours of the grades (best to worst, then the veto grade); other grades cycle through the rest.
GRADE_COLOURS: dict[str, str] = {
    "AAA": "#1b7837", "AA": "#5aae61", "A": "#a6dba0", "B": "#fdb863", "C": "#e66101", "VETO": "#7f0000",
}
_OTHER_COLOURS = ("#8073ac", "#b2abd2", "#999999", "#4393c3", "#d6604d")
#: Warning severities, blue < yellow < orange < red (DOMAIN.md section 6).
SEVERITY_COLOURS: dict[str, str] = {"blue": "#2b6cb0", "yellow": "#d4a017", "orange": "#dd6b20", "red": "#c53030"}
_DPI = 100
# Families known to carry CJK glyphs, in order of preference.
_CJK_HINTS = ("Noto Sans CJK", "Noto Serif CJK", "Source Han Sans", "Source Han Serif", "WenQuanYi", "Droid Sans Fallback",
              "AR PL", "SimHei", "Microsoft YaHei", "PingFang", "Hiragino Sans GB", "Heiti", "Songti", "SimSun",
              "Noto Sans SC", "Noto Sans TC")
_CJK_FILES = re.compile(r"(?i)(wqy|cjk|droidsansfallback|sourcehan|simhei|simsun|msyh|ukai|uming|notosanssc)")


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs, or None.

    Looks through matplotlib's font list, then (as that list is cached across runs and misses fonts
    installed since) through the system's font files, adding a CJK one to matplotlib. Once per
    process; no subprocess, no warnings.
    """
    found = _known_cjk({f.name for f in font_manager.fontManager.ttflist})
    if found is not None:
        return found
    for path in sorted(font_manager.findSystemFonts()):
        if _CJK_FILES.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # an unreadable font file: look further
                continue
    return _known_cjk({f.name for f in font_manager.fontManager.ttflist})


def _known_cjk(names: set[str]) -> str | None:
    for hint in _CJK_HINTS:
        for name in sorted(names):
            if name.startswith(hint):
                return name
    return None


def label(text: Any, fallback: str) -> str:
    """``text`` if the plot can draw it (ASCII, or a CJK font is installed), else ``fallback``."""
    s = str(text)
    if s.isascii() or cjk_font() is not None:
        return s
    return fallback


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    family = cjk_font()
    rc = {"font.sans-serif": [family, "DejaVu Sans"]} if family else {}
    with rc_context(rc):
        fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _colour(name: str, i: int, palette: dict[str, str]) -> str:
    return palette.get(name, _OTHER_COLOURS[i % len(_OTHER_COLOURS)])


def grade_mix(shares: pd.DataFrame, title: str) -> bytes:
    """Stacked horizontal bars: the share of each grade per area.

    Parameters
    ----------
    shares : DataFrame
        Index: area labels (drawable text); columns: grades in display order; values: shares
        summing to 1 per row.
    title : str

    Returns
    -------
    bytes
        A PNG image.
    """
    n = len(shares)
    fig = _figure(8.0, 1.4 + 0.28 * max(n, 2))
    ax = fig.add_subplot()
    y = np.arange(n)
    left = np.zeros(n)
    for i, grade in enumerate(shares.columns):
        w = shares[grade].to_numpy(dtype=float)
        ax.barh(y, w, left=left, color=_colour(str(grade), i, GRADE_COLOURS), label=str(grade),
                edgecolor="white", linewidth=0.5)
        left += w
    ax.set_yticks(y, [str(v) for v in shares.index], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("share of rated households")
    ax.set_title(title, fontsize=10)
    fig.legend(ncols=min(len(shares.columns), 6), loc="outside lower center", fontsize=8, frameon=False)
    return _png(fig)


def score_histogram(scores: np.ndarray, grades: np.ndarray, order: Sequence[str]) -> bytes:
    """Histogram of scores, stacked by grade.

    Parameters
    ----------
    scores : ndarray of float
        Finite scores.
    grades : ndarray of str
        Each subject's grade (same length).
    order : sequence of str
        Grades in display order (best first).

    Returns
    -------
    bytes
        A PNG image.
    """
    fig = _figure(8.0, 3.6)
    ax = fig.add_subplot()
    lo, hi = float(np.min(scores)), float(np.max(scores))
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, 41)
    present = [g for g in order if (grades == g).any()]
    data = [scores[grades == g] for g in present]
    colours = [_colour(g, i, GRADE_COLOURS) for i, g in enumerate(present)]
    ax.hist(data, bins=edges, stacked=True, color=colours, label=present, edgecolor="white", linewidth=0.3)
    ax.set_xlabel("score")
    ax.set_ylabel("subjects")
    ax.set_title("Score distribution by grade", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


def roc(y: np.ndarray, risk: np.ndarray, auc_value: float) -> bytes:
    """ROC curve (scikit-learn's ``roc_curve``) with the AUC in the legend.

    Parameters
    ----------
    y : ndarray of 0/1
        Outcomes, 1 = default.
    risk : ndarray of float
        Higher = riskier (a PD, or a negated points score).
    auc_value : float
        The AUC to print (from :func:`ruralcredit.models.metrics.auc`).

    Returns
    -------
    bytes
        A PNG image.
    """
    fpr, tpr, _ = roc_curve(y, risk)
    fig = _figure(4.6, 4.2)
    ax = fig.add_subplot()
    ax.plot(fpr, tpr, color="#2b6cb0", lw=2, label=f"model (AUC = {auc_value:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--", label="no discrimination")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false positive rate (goods flagged)")
    ax.set_ylabel("true positive rate (defaults caught)")
    ax.set_title("ROC curve", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return _png(fig)


def ks_curve(y: np.ndarray, risk: np.ndarray, statistic: float) -> bytes:
    """Cumulative shares of defaults and non-defaults by risk rank, with the KS gap marked.

    Parameters
    ----------
    y : ndarray of 0/1
    risk : ndarray of float
        Higher = riskier.
    statistic : float
        The KS statistic (from :func:`ruralcredit.models.metrics.ks`), printed in the title.

    Returns
    -------
    bytes
        A PNG image.
    """
    fpr, tpr, _ = roc_curve(y, risk, drop_intermediate=False)
    # Share of the population flagged at each threshold: the x axis of the KS plot.
    rate = (tpr * y.sum() + fpr * (y.size - y.sum())) / y.size
    gap = tpr - fpr
    i = int(np.argmax(np.abs(gap)))
    fig = _figure(4.6, 4.2)
    ax = fig.add_subplot()
    ax.plot(rate, tpr, color="#c53030", lw=2, label="defaults (cumulative share)")
    ax.plot(rate, fpr, color="#1b7837", lw=2, label="non-defaults (cumulative share)")
    ax.vlines(rate[i], fpr[i], tpr[i], color="#333333", lw=1.5, ls=":", label=f"KS = {statistic:.3f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("share of subjects, riskiest first")
    ax.set_ylabel("cumulative share")
    ax.set_title(f"KS plot (KS = {statistic:.3f})", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return _png(fig)


def _psi_lines(ax: Any, moderate: float, major: float, horizontal: bool) -> None:
    line = ax.axhline if horizontal else ax.axvline
    line(moderate, color="#d4a017", ls="--", lw=1, label=f"{moderate:g}: moderate shift")
    line(major, color="#c53030", ls="--", lw=1, label=f"{major:g}: major shift")


def psi_bins(table: pd.DataFrame, labels: tuple[str, str], value: float) -> bytes:
    """Bin shares of the two periods side by side (from :func:`~ruralcredit.models.metrics.psi_table`).

    Parameters
    ----------
    table : DataFrame
        ``bin, expected_share, actual_share``.
    labels : (str, str)
        Names of the reference and current periods (drawable text).
    value : float
        The PSI, printed in the title.

    Returns
    -------
    bytes
        A PNG image.
    """
    n = len(table)
    fig = _figure(8.0, 3.6)
    ax = fig.add_subplot()
    x = np.arange(n)
    ax.bar(x - 0.2, table["expected_share"].to_numpy(dtype=float), 0.4, color="#8da0cb", label=labels[0])
    ax.bar(x + 0.2, table["actual_share"].to_numpy(dtype=float), 0.4, color="#fc8d62", label=labels[1])
    ax.set_xticks(x, [str(b) for b in table["bin"]], rotation=30, ha="right", fontsize=7)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("share of subjects")
    ax.set_title(f"Score distribution per period (PSI = {value:.4f})", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


def psi_features(names: Sequence[str], values: np.ndarray, moderate: float, major: float) -> bytes:
    """PSI per feature or score (horizontal bars) with the moderate / major lines.

    Parameters
    ----------
    names : sequence of str
        Drawable labels.
    values : ndarray of float
    moderate, major : float
        The label thresholds (0.1 and 0.25 by default).

    Returns
    -------
    bytes
        A PNG image.
    """
    n = len(names)
    fig = _figure(8.0, 1.4 + 0.26 * max(n, 2))
    ax = fig.add_subplot()
    colours = np.where(values >= major, "#c53030", np.where(values >= moderate, "#d4a017", "#1b7837"))
    y = np.arange(n)
    ax.barh(y, values, color=colours)
    ax.set_yticks(y, list(names), fontsize=8)
    ax.invert_yaxis()
    _psi_lines(ax, moderate, major, horizontal=False)
    ax.set_xlabel("PSI")
    ax.set_title("Population stability index", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return _png(fig)


def severity_bars(counts: pd.DataFrame, title: str) -> bytes:
    """Stacked horizontal bars of warning counts per type, coloured by severity.

    Parameters
    ----------
    counts : DataFrame
        Index: warning types (drawable); columns: severities (blue, yellow, orange, red, ...).
    title : str

    Returns
    -------
    bytes
        A PNG image.
    """
    n = len(counts)
    fig = _figure(8.0, 1.4 + 0.3 * max(n, 2))
    ax = fig.add_subplot()
    y = np.arange(n)
    left = np.zeros(n)
    for i, sev in enumerate(counts.columns):
        w = counts[sev].to_numpy(dtype=float)
        ax.barh(y, w, left=left, color=_colour(str(sev), i, SEVERITY_COLOURS), label=str(sev))
        left += w
    ax.set_yticks(y, [str(v) for v in counts.index], fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("warnings")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return _png(fig)


def bar_counts(counts: pd.Series, title: str, xlabel: str, colours: dict[str, str] | None = None) -> bytes:
    """Horizontal bars of counts.

    Parameters
    ----------
    counts : Series
        Index: drawable labels; values: counts.
    title, xlabel : str
    colours : dict, optional
        Colour per label.

    Returns
    -------
    bytes
        A PNG image.
    """
    n = len(counts)
    fig = _figure(8.0, 1.2 + 0.3 * max(n, 2))
    ax = fig.add_subplot()
    y = np.arange(n)
    names = [str(v) for v in counts.index]
    palette = colours or {}
    ax.barh(y, counts.to_numpy(dtype=float), color=[_colour(k, i, palette) for i, k in enumerate(names)])
    for yi, v in zip(y, counts.to_numpy(), strict=True):
        ax.text(float(v), yi, f" {int(v):,}", va="center", fontsize=8)
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    return _png(fig)


def fairness_ratios(names: Sequence[str], ratio: np.ndarray, low: np.ndarray, high: np.ndarray,
                    flagged: np.ndarray, small: np.ndarray, threshold: float) -> bytes:
    """Approval-rate ratio per group with its confidence interval, the threshold line, flags marked.

    Parameters
    ----------
    names : sequence of str
        Drawable group labels.
    ratio, low, high : ndarray of float
        The ratio to the best-served group and its interval (NaN allowed).
    flagged, small : ndarray of bool
        Adverse impact; too small to judge.
    threshold : float
        The ratio threshold (0.8, the four-fifths rule of thumb).

    Returns
    -------
    bytes
        A PNG image.
    """
    n = len(names)
    fig = _figure(8.0, 1.4 + 0.28 * max(n, 2))
    ax = fig.add_subplot()
    y = np.arange(n)
    colour = np.where(flagged, "#c53030", np.where(small, "#999999", "#2b6cb0"))
    with np.errstate(invalid="ignore"):
        err = np.vstack([np.clip(ratio - low, 0, None), np.clip(high - ratio, 0, None)])
    ok = np.isfinite(ratio)
    for c in np.unique(colour):
        sel = ok & (colour == c)
        if sel.any():
            ax.errorbar(ratio[sel], y[sel], xerr=np.nan_to_num(err[:, sel]), fmt="o", color=c, capsize=3)
    ax.axvline(threshold, color="#c53030", ls="--", lw=1, label=f"ratio {threshold:g}")
    ax.axvline(1.0, color="#999999", ls=":", lw=1)
    ax.set_yticks(y, list(names), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("approval rate / best-served group's rate (95% interval)")
    ax.set_title("Approval-rate ratios (red: flagged, grey: too small to judge)", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    return _png(fig)
