"""The county report as one self-contained HTML file: :func:`render_report` and :func:`write_report`.

The file needs nothing else: styles and a small script are inline, plots are PNG images embedded as
``data:`` URIs, and a Content-Security-Policy forbids any other source, so it opens the same from a
mail attachment, a USB stick or an intranet share. Headings are bilingual (Chinese / English).

Personal data: every text cell is escaped and passes through resident-ID masking
(:func:`ruralcredit.ids.mask_resident_id` on any 15- or 18-character ID-shaped token), and the
finished page gets the same pass once more outside the embedded images, so no unmasked resident ID
number can reach the page whatever a caller puts in a frame.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit import __version__
from ruralcredit.blacklist import EligibilityResult
from ruralcredit.errors import InputError
from ruralcredit.ids import mask_ids_in_text
from ruralcredit.models import metrics
from ruralcredit.rating import AreaRating
from ruralcredit.report import plots
from ruralcredit.report.data import ReportData

__all__ = ["mask_ids_in_text", "render_report", "write_report"]

# A resident ID number inside any text: 18 characters (17 digits and a digit or X) or a legacy 15-digit
# number, not part of a longer run of letters and digits (so hashes and loan ids are left alone).
_DATA_URI = re.compile(r"(data:image/png;base64,[A-Za-z0-9+/=]*)")
_SEVERITY_ORDER = ("blue", "yellow", "orange", "red")
_SEVERITY_ZH = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}
_DEFAULT_GRADES = ("AAA", "AA", "A", "B", "C", "VETO")
_PSI_MODERATE, _PSI_MAJOR = 0.1, 0.25  # the usual PSI reading (metrics.stability_label's defaults)
_STABILITY_ZH = {"stable": "稳定", "moderate shift": "轻微偏移", "major shift": "显著偏移"}
_MAX_PLOTTED_AREAS = 60
_MAX_LISTED_WARNINGS = 30
_STATUS_CLASS = {"met": "met", "not_met": "unmet", "unknown": "unknown"}
_STATUS_ZH = {"met": "达标", "not_met": "未达标", "unknown": "无法评定"}
_CHANGE_ZH = {"upgrade": "升级", "downgrade": "降级", "new": "新评", "removed": "撤销", "unchanged": "不变"}

try:  # the case states in workflow order; the report still works if the risk package changes them
    from ruralcredit.risk.cases import CASE_STATES as _CASE_STATES
except ImportError:  # pragma: no cover - the risk package ships with the library
    _CASE_STATES = ()


# ----------------------------------------------------------------------------------------- masking


def _mask_page(page: str) -> str:
    """The masking pass over a whole page, leaving the embedded images' base64 alone."""
    parts = _DATA_URI.split(page)
    parts[::2] = [mask_ids_in_text(p) for p in parts[::2]]
    return "".join(parts)


def _e(value: Any) -> str:
    """A text cell: missing as empty, masked, escaped."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(mask_ids_in_text(str(value)))


def _esc_series(values: pd.Series) -> pd.Series:
    """:func:`_e` over a column (object result)."""
    return values.astype(object).map(_e)


# ------------------------------------------------------------------------------------------ format


def _pct(x: Any, digits: int = 1) -> str:
    return "—" if x is None or pd.isna(x) else f"{float(x):.{digits}%}"


def _int(x: Any) -> str:
    return "—" if x is None or pd.isna(x) else f"{int(x):,}"


def _flt(x: Any, digits: int = 3) -> str:
    return "—" if x is None or pd.isna(x) else f"{float(x):.{digits}f}"


def _num_td(text: str) -> str:
    return f'<td class="n">{html.escape(text)}</td>'


def _bi(zh: str, en: str) -> str:
    """A bilingual label: Chinese, then English."""
    return f'{html.escape(zh)} <span class="en">{html.escape(en)}</span>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, row_classes: Sequence[str] | None = None,
           cls: str = "") -> str:
    """A table from already-escaped header and cell HTML (a cell may be a full ``<td ...>``)."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        rc = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row)
        body.append(f"<tr{rc}>{cells}</tr>")
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _frame_table(df: pd.DataFrame, headers: Sequence[str],
                 formats: dict[str, Callable[[Any], str]] | None = None, *,
                 row_classes: Sequence[str] | None = None, cls: str = "") -> str:
    """A DataFrame as a table: formatted columns (``formats``) or text (masked and escaped)."""
    formats = formats or {}
    cols = []
    for c in df.columns:
        f = formats.get(c)
        # formatted (numeric) cells align right; text is masked and escaped
        cols.append(df[c].map(f).map(lambda v: f'<td class="n">{html.escape(v)}</td>') if f else _esc_series(df[c]))
    rows = list(zip(*[col.tolist() for col in cols], strict=True)) if cols else []
    return _table(headers, rows, row_classes=row_classes, cls=cls)


# --------------------------------------------------------------------------------------- sections


class _Page:
    """Sections and the notes of omitted ones, in report order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.toc: list[tuple[str, str, bool]] = []
        self.images = 0

    def img(self, png: bytes, alt: str) -> str:
        self.images += 1
        return _img(png, alt)

    def section(self, sid: str, zh: str, en: str, body: str) -> None:
        self.toc.append((sid, f"{zh} / {en}", True))
        self.parts.append(f'<section id="{sid}"><h2>{_bi(zh, en)}</h2>\n{body}\n</section>')

    def omit(self, sid: str, zh: str, en: str, why_zh: str, why_en: str) -> None:
        self.toc.append((sid, f"{zh} / {en}", False))
        self.parts.append(
            f'<p class="omitted" id="{sid}-omitted" data-omitted="{sid}">{html.escape(zh)} / {html.escape(en)}: '
            f"未显示（{html.escape(why_zh)}） — omitted: {html.escape(why_en)}.</p>")


def _grade_order(grades: pd.Series) -> list[str]:
    present = [str(g) for g in pd.unique(grades.dropna().astype(str))]
    if isinstance(grades.dtype, pd.CategoricalDtype):
        order = [str(c) for c in grades.cat.categories]
    else:
        order = list(_DEFAULT_GRADES)
    return [g for g in order if g in present] + sorted(g for g in present if g not in order)


def _area_names(rating: AreaRating | None, level: str) -> dict[str, str]:
    if rating is None or f"{level}_name" not in rating.summary:
        return {}
    s = rating.summary
    return dict(zip(s[f"{level}_code"].astype(str), s[f"{level}_name"].astype(str), strict=True))


def _with_township(scores: pd.DataFrame, villages: AreaRating | None) -> pd.DataFrame:
    """Scores with ``township_code`` looked up from the village rating when the frame lacks it."""
    if "township_code" in scores or "village_code" not in scores or villages is None:
        return scores
    s = villages.summary
    if "township_code" not in s:
        return scores
    lookup = dict(zip(s["village_code"].astype(str), s["township_code"].astype(str), strict=True))
    return scores.assign(township_code=scores["village_code"].astype(str).map(lookup))


def _grade_mix_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "grades", "信用等级分布（按村、按乡镇）", "Grade mix per village and township"
    if d.scores is None or d.scores.empty:
        page.omit(sid, zh, en, "未提供农户评分", "no household scores given")
        return
    scores = _with_township(d.scores, d.villages)
    levels = [lv for lv in ("village", "township") if f"{lv}_code" in scores]
    if not levels:
        page.omit(sid, zh, en, "评分中没有村或乡镇代码", "the scores have no village_code or township_code column")
        return
    order = _grade_order(scores["grade"])
    body = []
    for level in levels:
        lzh, len_ = ("村", "village") if level == "village" else ("乡镇", "township")
        rating = d.villages if level == "village" else d.townships
        names = _area_names(rating, level) or (_area_names(d.villages, level) if level == "township" else {})
        codes = scores[f"{level}_code"].astype(str).fillna("(none)")
        counts = pd.crosstab(codes, scores["grade"].astype(str)).reindex(columns=order, fill_value=0)
        counts = counts.sort_index()
        shares = counts.div(counts.sum(axis=1), axis=0)
        body.append(f"<h3>{_bi('按' + lzh, 'Per ' + len_)}</h3>")
        if len(shares) <= _MAX_PLOTTED_AREAS:
            labels = [plots.label(f"{c} {names[c]}" if c in names else c, c) for c in shares.index]
            png = plots.grade_mix(shares.set_axis(labels), f"Grade mix per {len_} (share of households)")
            body.append(page.img(png, f"grade mix per {len_}"))
        else:
            body.append(f'<p class="note">{len(shares):,} 个{lzh}，图略，见下表 — {len(shares):,} {len_}s: '
                        "too many to plot, see the table.</p>")
        table = counts.reset_index()
        table.insert(1, "name", table.iloc[:, 0].map(names).astype(object).fillna(""))
        table["total"] = counts.sum(axis=1).to_numpy()
        fmt = {g: _int for g in order} | {"total": _int}
        headers = [_bi("代码", "code"), _bi("名称", "name"), *map(html.escape, order), _bi("合计", "total")]
        body.append(_frame_table(table, headers, fmt))
    page.section(sid, zh, en, "\n".join(body))


def _criteria_table(rating: AreaRating) -> str:
    """One row per area: its figures, then every criterion and veto coloured met / not met / unknown."""
    level = rating.level
    code = rating.code_column
    rules = getattr(rating.pack.payload, level, None)
    label_of: dict[str, tuple[str, str]] = {}
    if rules is not None:
        for r in [*rules.criteria, *rules.vetoes]:
            label_of[r.code] = (r.label_zh or "", r.label_en or r.code.replace("_", " "))
    cr = rating.criteria
    cr = cr[cr["kind"] != "star"]
    crit_codes = list(pd.unique(cr["criterion"]))
    s = rating.summary
    wide_key = cr[code].astype(str) + "\x1f" + cr["criterion"].astype(str)
    value = cr["value"].to_numpy(dtype=float)
    thr = cr["threshold"].to_numpy(dtype=float)
    counting = cr["metric"].isin(["veto", "credit_years"]).to_numpy()
    val_txt = np.where(counting, pd.Series(value).map(lambda v: "—" if pd.isna(v) else f"{v:g}"),
                       pd.Series(value).map(_pct))
    thr_txt = np.where(counting, pd.Series(thr).map(lambda v: f"{v:g}"), pd.Series(thr).map(lambda v: _pct(v, 0)))
    op = cr["operator"].astype(str).map({">=": "≥", "<=": "≤", ">": "&gt;", "<": "&lt;"}).fillna("").to_numpy()
    status = cr["status"].astype(str).to_numpy()
    counts_as = np.where(cr["met"].to_numpy(dtype=bool), "counts as met / 按达标计", "counts as not met / 按未达标计")
    cls = pd.Series(status).map(_STATUS_CLASS).fillna("unknown").to_numpy()
    tip = (_esc_series(cr["reason_zh"]).to_numpy() + " | " + _esc_series(cr["reason_en"]).to_numpy() + " ("
           + counts_as + ")")
    cells = [f'<td class="{c}" title="{t}">{html.escape(v)} {o} {html.escape(h)}<br><small>{html.escape(st)}'
             f" {_STATUS_ZH.get(st, '')}</small></td>"
             for c, t, v, o, h, st in zip(cls, tip, val_txt, op, thr_txt, status, strict=True)]
    cell_of = dict(zip(wide_key, cells, strict=True))
    name_col = f"{level}_name"
    credit_col = rating.credit_column
    share_col = "credit_household_share" if level == "village" else "credit_village_share"
    headers = [_bi("代码", "code"), *([_bi("名称", "name")] if name_col in s else []),
               _bi("信用" + ("村" if level == "village" else "乡镇"), f"credit {level}"), _bi("星级", "stars")]
    if share_col in s:
        headers.append(_bi("信用户占比" if level == "village" else "信用村占比", share_col.replace("_", " ")))
    headers += [f"{html.escape(label_of.get(c, ('', c.replace('_', ' ')))[1])}<br><span class=\"zh\">"
                f"{html.escape(label_of.get(c, ('', ''))[0])}</span>" for c in crit_codes]
    rows, row_cls = [], []
    for rec in s.to_dict("records"):
        k = str(rec[code])
        credit = bool(rec[credit_col])
        row = [_e(k)]
        if name_col in s:
            row.append(_e(rec[name_col]))
        row.append('<td class="met">是 yes</td>' if credit else '<td class="unmet">否 no</td>')
        row.append("★" * int(rec.get("stars", 0) or 0))
        if share_col in s:
            row.append(_pct(rec[share_col]))
        row += [cell_of.get(f"{k}\x1f{c}", "<td></td>") for c in crit_codes]
        rows.append(row)
        row_cls.append("credit" if credit else "")
    return _table(headers, rows, row_classes=row_cls, cls="criteria")


def _credit_villages_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "credit-villages", "信用村与信用乡镇评定", "Credit villages and townships: criteria met or missed"
    ratings = [r for r in (d.villages, d.townships) if r is not None]
    if not ratings:
        page.omit(sid, zh, en, "未提供村、乡镇评定结果", "no village or township rating given")
        return
    body = ['<p class="legend"><span class="met">达标 met</span> <span class="unmet">未达标 not met</span> '
            '<span class="unknown">无法评定 unknown (counts as the policy says; hover for the reason)</span></p>']
    for r in ratings:
        p = r.policy
        n, k = len(r.summary), int(r.summary[r.credit_column].sum()) if len(r.summary) else 0
        lzh = "信用村" if r.level == "village" else "信用乡镇"
        body.append(f"<h3>{_bi(lzh, 'credit ' + r.level + 's')}: {k} / {n}</h3>")
        body.append(f'<p class="policy">{_bi("评定依据", "policy")}: {_e(p.get("policy_id"))} v'
                    f'{_e(p.get("policy_version"))} (hash {_e(str(p.get("policy_hash", ""))[:12])}…); '
                    f'{_bi("评定日", "as of")} {_e(r.as_of.date())}; {_e(p.get("policy_source", ""))}</p>')
        body.append(_criteria_table(r))
    page.section(sid, zh, en, "\n".join(body))


def _rating_changes_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "rating-changes", "评定结果变动", "Rating changes between periods"
    ch = d.rating_changes
    if ch is None:
        page.omit(sid, zh, en, "未提供两期评定的比较", "no comparison of two rating periods given")
        return
    counts = ch["change"].astype(str).value_counts()
    summary = "; ".join(f"{_CHANGE_ZH.get(c, c)} {c}: {n}" for c, n in counts.items()) or "none / 无"
    cols = [c for c in ch.columns if c in ("village_code", "township_code", "county_code", "village_name",
                                           "township_name", "previous_as_of", "as_of", "previous_stars", "stars",
                                           "change", "criteria_gained", "criteria_lost", "reason_zh", "reason_en")]
    table = ch[cols]
    fmt = {c: (lambda v: "" if pd.isna(v) else str(pd.Timestamp(v).date())) for c in ("previous_as_of", "as_of")
           if c in cols}
    body = f"<p>{html.escape(summary)}</p>" + _frame_table(table, [html.escape(c) for c in cols], fmt)
    page.section(sid, zh, en, body)


def _scores_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "scores", "评分分布", "Score distribution"
    if d.scores is None or d.scores.empty:
        page.omit(sid, zh, en, "未提供农户评分", "no household scores given")
        return
    s = d.scores
    score = pd.to_numeric(s["score"], errors="coerce").to_numpy(dtype=float)
    finite = np.isfinite(score)
    if not finite.any():
        page.omit(sid, zh, en, "评分全部缺失", "every score is missing")
        return
    order = _grade_order(s["grade"])
    grades = s["grade"].astype(str).to_numpy()
    body = [page.img(plots.score_histogram(score[finite], grades[finite], order), "score histogram")]
    counts = pd.Series(grades).value_counts().reindex(order, fill_value=0)
    rows = [[html.escape(g), _num_td(_int(n)), _num_td(_pct(n / len(s)))] for g, n in counts.items()]
    body.append(_table([_bi("等级", "grade"), _bi("户数", "subjects"), _bi("占比", "share")], rows))
    desc = (f"{_int(len(s))} {_bi('个主体', 'subjects')}; {_bi('平均分', 'mean')} {np.mean(score[finite]):.1f}, "
            f"{_bi('中位数', 'median')} {np.median(score[finite]):.1f}")
    if (~finite).any():
        desc += f"; {_bi('缺失', 'missing')} {int((~finite).sum()):,}"
    if "template_id" in s and len(s):
        tv = s["template_version"].iloc[0] if "template_version" in s else ""
        desc += f"; {_bi('模板', 'template')} {_e(s['template_id'].iloc[0])} v{_e(tv)}"
    body.insert(0, f"<p>{desc}</p>")
    page.section(sid, zh, en, "\n".join(body))


def _outcome_risk(o: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Outcomes and a risk score (higher = riskier), and which column it came from."""
    use_pd = "pd" in o and pd.to_numeric(o["pd"], errors="coerce").notna().all()
    column = "pd" if use_pd else "score"
    if column not in o:
        raise InputError("the pd column has missing values and there is no score column to use instead",
                         argument="outcomes")
    vals = pd.to_numeric(o[column], errors="coerce").to_numpy(dtype=float)
    if np.isnan(vals).any():
        raise InputError(f"column {column!r} has {int(np.isnan(vals).sum())} missing or non-numeric value(s)",
                         argument="outcomes")
    y = o["y"].to_numpy()
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("column 'y' must be 0/1", argument="outcomes") from exc
    if not np.isin(y, [0.0, 1.0]).all():
        raise InputError("column 'y' must be 0/1 without missing values", argument="outcomes")
    return y, (vals if use_pd else -vals), column


def _discrimination_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "discrimination", "区分能力：ROC 与 KS", "Discrimination: ROC and KS"
    o = d.outcomes
    if o is None or o.empty:
        page.omit(sid, zh, en, "未提供违约结果", "no outcomes (defaults) given")
        return
    y, risk, column = _outcome_risk(o)
    if y.min() == y.max():
        page.omit(sid, zh, en, "结果只有一类，无法计算 ROC/KS", "the outcomes hold a single class; ROC and KS need both")
        return
    auc = metrics.auc(y, risk)
    ks = metrics.ks(y, risk)
    threshold = ks.threshold if column == "pd" else -ks.threshold
    direction = "PD ≥" if column == "pd" else "score ≤"
    body = [f'<p class="figures">AUC {auc:.3f} · Gini {2 * auc - 1:.3f} · KS {ks.statistic:.3f} '
            f"({html.escape(direction)} {threshold:.4g}) · n = {y.size:,}, {_bi('违约', 'defaults')} "
            f"{int(y.sum()):,} ({y.mean():.1%}); {_bi('依据', 'from')} <code>{column}</code></p>",
            '<div class="pair">' + page.img(plots.roc(y, risk, auc), "ROC curve")
            + page.img(plots.ks_curve(y, risk, ks.statistic), "KS plot") + "</div>"]
    vals = o[column].to_numpy(dtype=float)
    gains = metrics.gains_table(y, vals, 10, higher_is_riskier=column == "pd")
    cols = ["band", "min_score", "max_score", "count", "events", "event_rate", "cum_event_share", "ks", "lift"]
    fmt = {"band": _int, "min_score": lambda v: f"{v:.4g}", "max_score": lambda v: f"{v:.4g}", "count": _int,
           "events": _int, "event_rate": _pct, "cum_event_share": _pct, "ks": _flt, "lift": lambda v: _flt(v, 2)}
    body.append(f"<h3>{_bi('增益表（风险最高的分段在前）', 'Gains table (riskiest band first)')}</h3>")
    body.append(_frame_table(gains[cols], [html.escape(c) for c in cols], fmt))
    if column == "pd":
        cal = metrics.calibration_table(y, vals, 10)
        ccols = ["bin", "lower", "upper", "count", "events", "mean_predicted", "observed_rate", "difference"]
        cfmt = {"bin": _int, "lower": lambda v: f"{v:.4f}", "upper": lambda v: f"{v:.4f}", "count": _int,
                "events": _int, "mean_predicted": lambda v: _pct(v, 2), "observed_rate": lambda v: _pct(v, 2),
                "difference": lambda v: _pct(v, 2)}
        body.append(f"<h3>{_bi('校准表', 'Calibration')} (Brier {metrics.brier(y, vals):.4f})</h3>")
        body.append(_frame_table(cal[ccols], [html.escape(c) for c in ccols], cfmt))
    page.section(sid, zh, en, "\n".join(body))


def _stability_rows(values: np.ndarray) -> list[str]:
    return list(np.atleast_1d(metrics.stability_label(values, moderate=_PSI_MODERATE, major=_PSI_MAJOR)))


def _stability_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "stability", "群体稳定性（PSI）", "Population stability between periods (PSI)"
    p = d.psi
    if p is None:
        page.omit(sid, zh, en, "未提供两期评分", "no scores of two periods given")
        return
    ref_label, cur_label = d.psi_labels
    legend = (f'<p class="legend">PSI &lt; {_PSI_MODERATE:g}: <span class="met">稳定 stable</span>; '
              f'{_PSI_MODERATE:g} – {_PSI_MAJOR:g}: <span class="warn">轻微偏移 moderate shift</span>; '
              f'≥ {_PSI_MAJOR:g}: <span class="unmet">显著偏移 major shift</span></p>')
    body = [legend]
    if isinstance(p, pd.DataFrame) and "feature" in p:
        vals = pd.to_numeric(p["psi"], errors="coerce").to_numpy(dtype=float)
        labels = _stability_rows(vals)
        names = [plots.label(f, f"feature {i + 1}") for i, f in enumerate(p["feature"].astype(str))]
        body.append(page.img(plots.psi_features(names, vals, _PSI_MODERATE, _PSI_MAJOR), "PSI per feature"))
        rows = [[_e(f), _num_td(_flt(v, 4)), f'<td class="{_stab_class(lab)}">{html.escape(lab)} '
                 f'{_STABILITY_ZH.get(lab, "")}</td>']
                for f, v, lab in zip(p["feature"], vals, labels, strict=True)]
        body.append(_table([_bi("特征/评分", "feature"), "PSI", _bi("判断", "reading")], rows))
    else:
        if isinstance(p, pd.DataFrame):
            table = p
        else:
            table = metrics.psi_table(p[0], p[1], 10)
        value = float(table["psi"].sum())
        lab = str(metrics.stability_label(value, moderate=_PSI_MODERATE, major=_PSI_MAJOR))
        body.append(f'<p class="figures">{_e(ref_label)} → {_e(cur_label)}: PSI {value:.4f} — '
                    f'<span class="{_stab_class(lab)}">{html.escape(lab)} {_STABILITY_ZH.get(lab, "")}</span></p>')
        labels = (plots.label(ref_label, "reference"), plots.label(cur_label, "current"))
        body.append(page.img(plots.psi_bins(table, labels, value), "score shares per period"))
        cols = [c for c in ("bin", "expected_count", "actual_count", "expected_share", "actual_share", "psi")
                if c in table]
        fmt = {"expected_count": _int, "actual_count": _int, "expected_share": _pct, "actual_share": _pct,
               "psi": lambda v: _flt(v, 4)}
        body.append(_frame_table(table[cols], [html.escape(c) for c in cols], fmt))
    page.section(sid, zh, en, "\n".join(body))


def _stab_class(label: str) -> str:
    return {"stable": "met", "moderate shift": "warn", "major shift": "unmet"}.get(label, "")


def _severity_columns(values: pd.Series) -> list[str]:
    present = set(values.astype(str))
    return [s for s in _SEVERITY_ORDER if s in present] + sorted(present - set(_SEVERITY_ORDER))


def _warnings_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "warnings", "风险预警（按类型与等级）", "Warnings by type and severity"
    w = d.warnings
    if w is None:
        page.omit(sid, zh, en, "未提供预警结果", "no warnings frame given")
        return
    if w.empty:
        page.section(sid, zh, en, "<p>无预警 — no warnings fired.</p>")
        return
    kind = "category" if "category" in w else "rule_id"
    sev_cols = _severity_columns(w["severity"])
    counts = pd.crosstab(w[kind].astype(str), w["severity"].astype(str)).reindex(columns=sev_cols, fill_value=0)
    rank = {s: i for i, s in enumerate(sev_cols)}
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    sev_counts = w["severity"].astype(str).value_counts()
    summary = ", ".join(f"{_SEVERITY_ZH.get(s, s)} {s}: {int(sev_counts.get(s, 0)):,}" for s in sev_cols)
    body = [f"<p>{len(w):,} {_bi('条预警', 'warnings')} — {html.escape(summary)}</p>"]
    labels = [plots.label(k, f"type {i + 1}") for i, k in enumerate(counts.index)]
    body.append(page.img(plots.severity_bars(counts.set_axis(labels), f"Warnings per {kind} and severity"),
                         "warnings by type and severity"))
    table = counts.reset_index()
    table["total"] = counts.sum(axis=1).to_numpy()
    headers = [html.escape(kind), *[f'<span class="sev sev-{html.escape(s)}">{_SEVERITY_ZH.get(s, "")} '
                                    f"{html.escape(s)}</span>" for s in sev_cols], _bi("合计", "total")]
    body.append(_frame_table(table, headers, {s: _int for s in [*sev_cols, "total"]}))
    if kind == "category" and "rule_id" in w:
        by_rule = pd.crosstab(w["rule_id"].astype(str), w["severity"].astype(str)).reindex(columns=sev_cols,
                                                                                              fill_value=0)
        by_rule = by_rule.reset_index()
        body.append(f"<h3>{_bi('按规则', 'Per rule')}</h3>")
        body.append(_frame_table(by_rule, ["rule_id", *map(html.escape, sev_cols)],
                                 {s: _int for s in sev_cols}))
    worst = w.assign(_rank=w["severity"].astype(str).map(rank).fillna(-1))
    worst = worst.sort_values("_rank", ascending=False, kind="stable").head(_MAX_LISTED_WARNINGS)
    cols = [c for c in ("subject_id", "rule_id", "category", "severity", "text_zh", "text_en") if c in worst]
    body.append(f"<h3>{_bi('最严重的预警', 'Most severe warnings')} (≤ {_MAX_LISTED_WARNINGS})</h3>")
    rows = [[_e(v) if c != "severity" else f'<td><span class="sev sev-{_e(v)}">{_e(v)}</span></td>'
             for c, v in zip(cols, rec, strict=True)] for rec in worst[cols].itertuples(index=False)]
    body.append(_table([html.escape(c) for c in cols], rows))
    page.section(sid, zh, en, "\n".join(body))


def _cases_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "cases", "预警处置案件（按状态）", "Cases by state"
    c = d.cases
    if c is None:
        page.omit(sid, zh, en, "未提供案件", "no cases frame given")
        return
    if c.empty:
        page.section(sid, zh, en, "<p>无案件 — no cases.</p>")
        return
    states = c["state"].astype(str)
    present = set(states)
    order = [s for s in _CASE_STATES if s in present] + sorted(present - set(_CASE_STATES))
    counts = states.value_counts().reindex(order, fill_value=0)
    body = [f"<p>{len(c):,} {_bi('件', 'cases')}</p>",
            page.img(plots.bar_counts(counts, "Cases by state", "cases"), "cases by state")]
    for col, zh_, en_ in (("severity", "按预警等级", "by severity"), ("category", "按风险类型", "by risk type")):
        if col in c:
            ct = pd.crosstab(states, c[col].astype(str)).reindex(index=order, fill_value=0)
            if col == "severity":
                ct = ct.reindex(columns=_severity_columns(c[col]), fill_value=0)
            body.append(f"<h3>{_bi('状态 × ' + zh_.removeprefix('按'), 'state ' + en_)}</h3>")
            body.append(_frame_table(ct.reset_index(), ["state", *map(_e, ct.columns)],
                                     {k: _int for k in ct.columns}))
    if "assignee" in c:
        a = c["assignee"].astype(object).where(c["assignee"].notna(), "(unassigned)").astype(str)
        ct = pd.crosstab(a, states).reindex(columns=order, fill_value=0)
        body.append(f"<h3>{_bi('按经办人', 'by assignee')}</h3>")
        body.append(_frame_table(ct.reset_index(), ["assignee", *map(_e, ct.columns)],
                                 {k: _int for k in ct.columns}))
    page.section(sid, zh, en, "\n".join(body))


def _blacklist_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "blacklist", "黑名单与补贴资格", "Blacklist and eligibility"
    bl, el = d.blacklist, d.eligibility
    if bl is None and el is None:
        page.omit(sid, zh, en, "未提供黑名单或资格审查结果", "no blacklist listings or eligibility decisions given")
        return
    body = []
    if bl is None:
        body.append('<p class="omitted">黑名单未提供 — blacklist listings not given.</p>')
    elif bl.empty:
        body.append("<p>黑名单为空 — no listings.</p>")
    else:
        cat = bl["category"].astype(str)
        if "category_zh" in bl:
            cat = cat + " " + bl["category_zh"].astype(object).where(bl["category_zh"].notna(), "").astype(str)
        ct = pd.crosstab(cat, bl["status"].astype(str))
        ct["total"] = ct.sum(axis=1)
        status_counts = bl["status"].astype(str).value_counts()
        body.append(f"<h3>{_bi('黑名单', 'Listings')}: {len(bl):,}</h3>")
        body.append(page.img(plots.bar_counts(status_counts, "Listings by status", "listings"),
                             "listings by status"))
        body.append(_frame_table(ct.reset_index(), [_bi("类别", "category"), *map(_e, ct.columns)],
                                 {k: _int for k in ct.columns}))
        if "severity" in bl:
            sv = pd.crosstab(bl["severity"].astype(str), bl["status"].astype(str))
            body.append(_frame_table(sv.reset_index(), [_bi("严重程度", "severity"), *map(_e, sv.columns)],
                                     {k: _int for k in sv.columns}))
    if el is None:
        body.append('<p class="omitted">补贴资格审查未提供 — eligibility decisions not given.</p>')
    else:
        decisions = el.decisions if isinstance(el, EligibilityResult) else el
        eligible = decisions["eligible"].to_numpy(dtype=bool)
        n = len(decisions)
        body.append(f"<h3>{_bi('补贴资格', 'Subsidy eligibility')}: {int(eligible.sum()):,} / {n:,} "
                    f"{_bi('符合', 'eligible')} ({_pct(eligible.mean() if n else np.nan)})</h3>")
        if isinstance(el, EligibilityResult):
            rec = el.record
            body.append(f'<p class="policy">{_bi("政策", "policy")}: {_e(rec.get("policy_id"))} v'
                        f'{_e(rec.get("policy_version"))} (hash {_e(str(rec.get("policy_hash", ""))[:12])}…), '
                        f'{_bi("审查日", "as of")} {_e(rec.get("as_of", ""))}</p>')
            det = el.details
            ct = pd.crosstab(det["condition"].astype(str), det["outcome"].astype(str))
            body.append(_frame_table(ct.reset_index(), [_bi("条件", "condition"), *map(_e, ct.columns)],
                                     {k: _int for k in ct.columns}))
        if n:
            counts = pd.Series({"eligible": int(eligible.sum()), "not eligible": int((~eligible).sum())})
            body.append(page.img(plots.bar_counts(counts, "Eligibility decisions", "subjects",
                                                  {"eligible": "#1b7837", "not eligible": "#c53030"}),
                                 "eligibility decisions"))
    page.section(sid, zh, en, "\n".join(body))


def _fairness_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "fairness", "公平性审查", "Fairness across groups"
    f = d.fairness
    if f is None:
        page.omit(sid, zh, en, "未提供公平性审查结果", "no fairness report given")
        return
    t = f.table
    threshold = float(f.params.get("ratio_threshold", 0.8))
    intro = _bi("各组批准率与最优组之比，含置信区间；低于阈值且整个区间低于 1 的组标红，样本过小的组标灰。",
                "Approval-rate ratio to the best-served group, with its interval; red: ratio below "
                f"{threshold:g} with the whole interval below 1; grey: too small to judge.")
    body = [f"<p>{intro}</p>"]
    if f.warnings:
        body.append('<ul class="warnings">' + "".join(f"<li>{_e(m)}</li>" for m in f.warnings) + "</ul>")
    if not t.empty:
        flagged = t["adverse_impact"].to_numpy(dtype=bool)
        small = t["small_group"].to_numpy(dtype=bool)
        names = [plots.label(f"{v}={g}", f"{v} #{i + 1}")
                 for i, (v, g) in enumerate(zip(t["variable"].astype(str), t["group"].astype(str), strict=True))]
        body.append(page.img(plots.fairness_ratios(
            names, t["approval_ratio"].to_numpy(dtype=float), t["ratio_ci_low"].to_numpy(dtype=float),
            t["ratio_ci_high"].to_numpy(dtype=float), flagged, small, threshold), "approval-rate ratios"))
        view = t.assign(
            row=np.arange(1, len(t) + 1),
            ratio_ci=[f"[{_flt(lo)}, {_flt(hi)}]" for lo, hi in zip(t["ratio_ci_low"], t["ratio_ci_high"],
                                                                    strict=True)],
            auc_ci=[f"[{_flt(lo)}, {_flt(hi)}]" for lo, hi in zip(t["auc_ci_low"], t["auc_ci_high"], strict=True)],
            flags=np.where(flagged, "adverse impact / 不利影响", np.where(small, "small group / 样本过小", "")))
        cols = ["row", "variable", "group", "n", "approval_rate", "approval_ratio", "ratio_ci", "observed_rate",
                "mean_pd", "auc", "auc_ci", "flags"]
        fmt = {"row": _int, "n": _int, "approval_rate": _pct, "approval_ratio": _flt, "observed_rate": _pct,
               "mean_pd": _pct, "auc": _flt}
        classes = np.where(flagged, "flagged", np.where(small, "small", "")).tolist()
        body.append(_frame_table(view[cols], ["#", *map(html.escape, cols[1:])], fmt, row_classes=classes))
    page.section(sid, zh, en, "\n".join(body))


def _markdown(text: str) -> str:
    """A small, safe Markdown subset: headings, bullet lists, pipe tables, code spans, paragraphs."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    rows: list[list[str]] = []

    def bold(s: str) -> str:
        # on the raw text, before masking: masked ID numbers are full of '*'
        parts = re.split(r"\*\*(.+?)\*\*", s)
        return "".join(f"<strong>{_e(p)}</strong>" if i % 2 else _e(p) for i, p in enumerate(parts))

    def inline(s: str) -> str:
        parts = re.split(r"(`[^`]*`)", s)
        return "".join(f"<code>{_e(p[1:-1])}</code>" if p.startswith("`") and p.endswith("`") and len(p) > 1
                       else bold(p) for p in parts)

    def flush() -> None:
        if para:
            out.append(f"<p>{inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if rows:
            body = [r for r in rows[1:] if not all(re.fullmatch(r":?-{2,}:?", c.strip()) for c in r)]
            out.append(_table([inline(c) for c in rows[0]], [[inline(c) for c in r] for r in body]))
            rows.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            flush()
            level = min(len(m.group(1)) + 2, 6)  # the card sits inside a section: h3 and below
            out.append(f"<h{level}>{inline(m.group(2))}</h{level}>")
        elif re.match(r"^\s*[-*]\s+", line):
            if para or rows:
                flush()
            items.append(re.sub(r"^\s*[-*]\s+", "", line))
        elif line.strip().startswith("|"):
            if para or items:
                flush()
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif not line.strip():
            flush()
        else:
            if items or rows:
                flush()
            para.append(line.strip())
    flush()
    return "\n".join(out)


def _model_card_section(page: _Page, d: ReportData) -> None:
    sid, zh, en = "model-card", "模型说明", "Model card"
    if not d.model_card or not d.model_card.strip():
        page.omit(sid, zh, en, "未提供模型说明", "no model card given")
        return
    page.section(sid, zh, en, f'<div class="card">{_markdown(d.model_card)}</div>')


def _key_figures(d: ReportData) -> str:
    figs: list[tuple[str, str, str]] = []
    if d.scores is not None and len(d.scores):
        figs.append(("评分主体", "subjects scored", f"{len(d.scores):,}"))
    for r, zh, en in ((d.villages, "信用村", "credit villages"), (d.townships, "信用乡镇", "credit townships")):
        if r is not None and len(r.summary):
            figs.append((zh, en, f"{int(r.summary[r.credit_column].sum())} / {len(r.summary)}"))
    if d.warnings is not None:
        red = int((d.warnings["severity"].astype(str) == "red").sum())
        figs.append(("预警（红色）", "warnings (red)", f"{len(d.warnings):,} ({red:,})"))
    if d.cases is not None:
        figs.append(("案件", "cases", f"{len(d.cases):,}"))
    if d.blacklist is not None:
        active = int((d.blacklist["status"].astype(str) == "active").sum())
        figs.append(("黑名单（生效）", "listings (active)", f"{len(d.blacklist):,} ({active:,})"))
    if not figs:
        return ""
    return '<div class="figs">' + "".join(
        f'<div class="fig"><div class="v">{html.escape(v)}</div><div>{_bi(zh, en)}</div></div>'
        for zh, en, v in figs) + "</div>"


_CSS = """
:root{--met:#e3f4e1;--met-b:#1b7837;--unmet:#fde2e1;--unmet-b:#c53030;--unk:#eeeeee;--warn:#fdf0d5}
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",
"Helvetica Neue",Arial,sans-serif;margin:0;color:#1a202c;background:#f7fafc;line-height:1.45}
header{background:#1f4e79;color:#fff;padding:18px 28px}
header h1{margin:0 0 6px;font-size:24px}
header p{margin:2px 0;opacity:.9}
header .en{color:#cbd5e0}
nav{background:#fff;border-bottom:1px solid #ddd;padding:8px 28px;font-size:13px}
nav a{margin-right:14px;color:#1f4e79;text-decoration:none}
nav span.off{margin-right:14px;color:#aaa}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:19px;margin:4px 0 10px;color:#1f4e79}
h3{font-size:15px;margin:14px 0 6px}
.en{color:#4a5568;font-weight:normal}
.zh{color:#4a5568;font-weight:normal}
img{max-width:100%;height:auto;display:block;margin:8px 0}
.pair{display:flex;flex-wrap:wrap;gap:12px}
.pair img{max-width:48%}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #e2e8f0;padding:3px 7px;vertical-align:top}
th{background:#edf2f7;text-align:left;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.met,span.met{background:var(--met);color:#14532d}
td.unmet,span.unmet{background:var(--unmet);color:#7f1d1d}
td.unknown,span.unknown{background:var(--unk);color:#4a5568}
span.warn,td.warn{background:var(--warn);color:#7b4a00}
tr.credit td:first-child{border-left:4px solid var(--met-b)}
tr.flagged td{background:var(--unmet);font-weight:600}
tr.small td{color:#718096;font-style:italic}
.sev{padding:0 6px;border-radius:3px;color:#fff}
.sev-blue{background:#2b6cb0}.sev-yellow{background:#d4a017}.sev-orange{background:#dd6b20}.sev-red{background:#c53030}
p.omitted{color:#718096;font-style:italic;margin:10px 4px}
p.legend span{padding:1px 6px;border-radius:3px;margin-right:6px}
.figs{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.fig{background:#fff;border:1px solid #e2e8f0;border-radius:6px;padding:8px 14px;min-width:150px}
.fig .v{font-size:20px;font-weight:700;color:#1f4e79}
.figures{font-size:15px}
ul.warnings li{color:#7f1d1d}
footer{color:#718096;font-size:12px;padding:0 28px 24px}
"""

# Marks the page after every image has decoded, so a headless browser (and a person) can check it.
_SCRIPT = """
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute("data-images", String(imgs.length));
  document.body.setAttribute("data-images-loaded", String(ok));
  document.body.setAttribute("data-images-ok", ok === imgs.length ? "true" : "false");
});
"""


def render_report(data: ReportData) -> str:
    """Render a county report as one self-contained HTML page.

    Parameters
    ----------
    data : ReportData
        What to show; sections without data are left out with a one-line note.

    Returns
    -------
    str
        The HTML page (UTF-8 text, ``<meta charset="utf-8">``, ``lang="zh-CN"``): bilingual headings,
        inline styles and script, plots as embedded base64 PNG images, resident ID numbers masked.

    Raises
    ------
    InputError
        ``data`` is not a ReportData, or outcomes that cannot be read (non-binary ``y``, missing
        scores).

    Examples
    --------
    >>> page = render_report(ReportData(county_name="示例县", as_of="2026-06-30"))
    >>> page.startswith("<!DOCTYPE html>") and 'data-omitted="grades"' in page
    True
    """
    if not isinstance(data, ReportData):
        raise InputError(f"expected a ReportData, got {type(data).__name__}", argument="data")
    page = _Page()
    for build in (_grade_mix_section, _credit_villages_section, _rating_changes_section, _scores_section,
                  _discrimination_section, _stability_section, _warnings_section, _cases_section,
                  _blacklist_section, _fairness_section, _model_card_section):
        build(page, data)
    title = data.title or f"{data.county_name} 农村信用体系报告 / rural credit report"
    code = f" ({_e(data.county_code)})" if data.county_code else ""
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav = "".join(f'<a href="#{sid}">{html.escape(label)}</a>' if shown
                  else f'<span class="off" title="omitted / 未显示">{html.escape(label)}</span>'
                  for sid, label, shown in page.toc)
    shown = ",".join(sid for sid, _, ok in page.toc if ok)
    omitted = ",".join(sid for sid, _, ok in page.toc if not ok)
    csp = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
           "base-uri 'none'; form-action 'none'")
    doc = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ruralcredit {html.escape(__version__)}">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body data-sections="{shown}" data-omitted="{omitted}" data-expected-images="{page.images}">
<header>
<h1>{_e(title)}</h1>
<p>{_bi("县", "county")}: {_e(data.county_name)}{code} · {_bi("数据截至", "as of")} {_e(data.as_of.date())}</p>
<p>{_bi("生成时间", "generated")} {generated} · ruralcredit {html.escape(__version__)}</p>
</header>
<nav>{nav}</nav>
<main>
{_key_figures(data)}
{chr(10).join(page.parts)}
</main>
<footer>居民身份证号码均已脱敏（保留前 6 位与后 4 位） — resident ID numbers are masked (first 6 and last 4
characters kept). 本报告为自包含文件，不引用任何外部资源 — this file loads nothing from elsewhere.</footer>
<script>{_SCRIPT}</script>
</body>
</html>
"""
    return _mask_page(doc)


def write_report(data: ReportData, path: str | Path) -> Path:
    """Render the report and write it to ``path`` as UTF-8.

    Parameters
    ----------
    data : ReportData
    path : str or Path
        The HTML file to write (its folder must exist).

    Returns
    -------
    Path
        The path written, absolute.

    Raises
    ------
    InputError
        ``path`` names a folder or a missing folder; see :func:`render_report` for ``data``.
    """
    p = Path(path).expanduser()
    if p.is_dir():
        raise InputError(f"is a folder, not a file: {p}", argument="path", value=str(p))
    if not p.parent.is_dir():
        raise InputError(f"folder does not exist: {p.parent}", argument="path", value=str(p))
    page = render_report(data)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(p)  # a reader never sees a half-written report
    return p.resolve()
