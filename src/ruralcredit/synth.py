"""A synthetic rural county of Kunming with ground truth: every table, a latent default process, risk patterns.

:func:`make_county` builds a :class:`County` holding every table of :mod:`ruralcredit.schema`
(villages, households, persons, enterprises, roles, loans, repayments, guarantees, contacts,
transactions, subsidies) for one county under Kunming (division prefix ``5301``), deterministic by
seed, plus the truth that real data never has:

- ``truth["defaults"]``: for every household, enterprise and professional farm manager, the
  probability ``pd_true`` and the drawn outcome ``default_12m`` of a default (90+ days past due on a
  loan) in the 12 months *after* ``as_of``. Both come from a latent risk built from observable facts
  (income per head, informal debt, deposits, health, conduct as the village committee sees it,
  criminal record, credit history, current arrears, debt burden; for organisations leverage,
  margin, growth) plus an unobserved part, so a good model ranks clearly better than chance but
  not perfectly. Ethnicity, gender and religion never enter it.
- ``truth["patterns"]``: every injected risk pattern, labelled per entity (``pattern``,
  ``entity_kind``, ``entity_id``, ``group_id``, ``role``): guarantee circles (cycles of three to five
  guarantors and mutual pairs), impersonated-loan clusters (冒名贷款: borrowers sharing the real
  user's phone or address, one officer, a short window, funds sent to the guarantor who is the real
  user, simultaneous arrears), re-lending (funds sent on to many individuals within 30 days),
  diverted funds (a planting loan paid to real estate or finance), an illegal-fundraising
  cooperative (flagged words, promised yields of 12-20%, many small deposits from non-members,
  concentrated outflows) and malicious evaders (long overdue while their deposits could repay).
- ``truth["guarantee_groups"]``: the ordinary joint-liability groups (联保小组) whose members
  guarantee each other's loans by design. They are cycles in the guarantee graph but not an injected
  risk pattern; every guarantee cycle outside these groups is a labelled ``guarantee_circle``.

Dates: no event in any table is dated after ``as_of``. The only later dates are contractual
schedules known on ``as_of``: ``loans.maturity_date`` and ``repayments.due_date`` of instalments
not yet due (their ``paid_date`` is missing unless the loan was prepaid or settled early).

Division codes follow the GB/T 2260 ranges (towns 1xx, townships 2xx, villagers' committees
2xx-3xx) under a real county code, but township and village names and codes are invented, not taken
from the official table. Everything is generated with vectorised numpy; a million households take
about a minute (see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ruralcredit import ids, schema
from ruralcredit.errors import InputError

__all__ = ["COUNTIES", "PATTERNS", "SCHEDULED_DATE_COLUMNS", "County", "make_county"]

#: The injected risk patterns, as labelled in ``truth["patterns"]["pattern"]``.
PATTERNS = (
    "guarantee_circle",
    "impersonated_loan",
    "relending",
    "diverted_funds",
    "illegal_fundraising",
    "malicious_evader",
)

#: Date columns that may lie after ``as_of``: contractual schedules known on the snapshot.
SCHEDULED_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "loans": ("maturity_date",),
    "repayments": ("due_date",),
}

#: Known county-level divisions of Kunming: code -> (full name, short name).
COUNTIES: dict[str, tuple[str, str]] = {
    "530102": ("五华区", "五华"),
    "530103": ("盘龙区", "盘龙"),
    "530111": ("官渡区", "官渡"),
    "530112": ("西山区", "西山"),
    "530113": ("东川区", "东川"),
    "530114": ("呈贡区", "呈贡"),
    "530115": ("晋宁区", "晋宁"),
    "530124": ("富民县", "富民"),
    "530125": ("宜良县", "宜良"),
    "530126": ("石林彝族自治县", "石林"),
    "530127": ("嵩明县", "嵩明"),
    "530128": ("禄劝彝族苗族自治县", "禄劝"),
    "530129": ("寻甸回族彝族自治县", "寻甸"),
    "530181": ("安宁市", "安宁"),
}

_MIN_HOUSEHOLDS = 200
#: Real members of an illegal-fundraising cooperative (everyone else who pays in is a non-member).
_FUNDRAISER_MEMBERS = 8
#: Mean probability of default over the next 12 months across households (calibrated exactly).
_TARGET_DEFAULT_RATE = 0.05
_MAX_HOUSEHOLDS = 20_000_000
_FORMAT_VERSION = 1

# ---------------------------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------------------------

_ETHNIC = np.array(["Han", "Yi", "Miao", "Hui", "Bai", "Hani", "Dai", "Zhuang", "Lisu", "Buyi"])
_ETHNIC_MIX = np.array([0.60, 0.24, 0.05, 0.03, 0.02, 0.02, 0.01, 0.01, 0.015, 0.005])
#: County-specific boosts of the ethnic mix (Shilin is Yi, Xundian Hui and Yi, Luquan Yi and Miao).
_ETHNIC_BOOST = {"530126": {"Yi": 1.8}, "530129": {"Hui": 3.0, "Yi": 1.2}, "530128": {"Yi": 1.2, "Miao": 1.5}}
_SURNAMES = {
    "Han": "王李张刘陈杨赵黄周吴徐孙朱胡郭何罗高林段董彭曾谢",
    "Yi": "李杨普罗张者毕鲁沙王自龙",
    "Miao": "王杨张陶熊项李马",
    "Hui": "马纳沙丁杨保白",
    "Bai": "段杨赵李张王尹",
    "Hani": "白李马杨张",
    "Dai": "刀岩玉罕",
    "Zhuang": "农黄陆韦王",
    "Lisu": "余李和密",
    "Buyi": "王罗陆岑",
}
_MALE_CHARS = np.array(list("伟强军勇国华明平林海云文兵贵富荣成发春福昌德忠学光金志红永正才顺有祥宝山"))
_FEMALE_CHARS = np.array(list("芳丽英梅秀兰琼艳敏燕娟霞萍玉珍凤桂仙琴花莲美春红慧"))
#: (religion, probability) by ethnicity; everyone else has none recorded.
_RELIGION = {"Hui": ("Islam", 0.9), "Dai": ("Buddhism", 0.6), "Bai": ("Buddhism", 0.1),
             "Miao": ("Christianity", 0.1), "Lisu": ("Christianity", 0.15), "Han": ("Buddhism", 0.03)}

_RELIGIONS = ("Islam", "Buddhism", "Christianity")

_PLACE_A = np.array(list("大小新上下中东西南北黑白红青石马龙凤金银水花松柏桃茶羊沙海"))
_PLACE_B = np.array(list("坪坝山河沟箐营哨塘庄甸寨湾田冲屯铺桥"))
_MIGRANT_CODES = np.array(["530102", "530111", "530112", "530302", "532301", "530402", "532901", "530125"])
_OUTSIDE_CODES = np.array(["530102", "530103", "530111", "530112", "530114"])

_EDUCATION = np.array(schema.EDUCATION)
_HEALTH = np.array(schema.HEALTH)
_STRUCTURES = np.array(schema.HOUSE_STRUCTURE)
_ASSESSMENT = np.array(schema.ASSESSMENT)
_DEMONSTRATION = np.array(schema.DEMONSTRATION)
_PRODUCTS = np.array(schema.LOAN_PRODUCTS)  # micro_credit, guaranteed, mortgage, business, consumer
_PURPOSES = np.array(schema.LOAN_PURPOSES)
_INDUSTRIES = np.array(schema.INDUSTRIES)
_KINDS = np.array(schema.ENTERPRISE_KINDS)  # family_farm, cooperative, enterprise, individual_business

_P = {name: i for i, name in enumerate(schema.LOAN_PRODUCTS)}
_U = {name: i for i, name in enumerate(schema.LOAN_PURPOSES)}
_I = {name: i for i, name in enumerate(schema.INDUSTRIES)}
_K = {name: i for i, name in enumerate(schema.ENTERPRISE_KINDS)}
_FIVE = np.array(schema.FIVE_CLASSES)

#: Lending institutions: code, name template ({c} = county short name), share of loans, base yearly
#: rate, officers per township.
_INSTITUTIONS = (
    ("RCC", "云南省农村信用社{c}联社", 0.55, 0.062, 3),
    ("ABC", "中国农业银行{c}支行", 0.15, 0.043, 1),
    ("PSBC", "中国邮政储蓄银行{c}支行", 0.15, 0.048, 1),
    ("VTB", "{c}兴农村镇银行", 0.10, 0.075, 1),
    ("MLC", "{c}惠民小额贷款公司", 0.05, 0.140, 1),
)
_RCC = 0
_MAX_OFFICERS = max(x[4] for x in _INSTITUTIONS)

#: Purpose -> the payee industry of ordinary loan use.
_PURPOSE_INDUSTRY = np.array([_I[x] for x in (
    "agriculture", "agriculture", "processing", "trade", "tourism", "trade", "construction", "services",
    "services", "services")])
_PAYEES = {
    "agriculture": ("农资经营部", "种子站", "饲料经营部", "畜禽良种场", "农机销售部"),
    "processing": ("食品加工厂", "农机维修部", "烘烤设备厂"),
    "trade": ("商贸有限公司", "百货超市", "农产品批发市场"),
    "tourism": ("旅游开发有限公司", "农家乐", "民宿"),
    "construction": ("建材经营部", "建筑工程队", "钢材经营部"),
    "real_estate": ("房地产开发有限公司", "置业有限公司"),
    "finance": ("投资管理有限公司", "财富管理有限公司", "融资担保有限公司"),
    "services": ("人民医院", "第一中学", "家电经营部", "物流有限公司"),
    "individual": ("个人",),
    "unknown": ("其他",),
}
_SPECIALTIES = np.array(["烤烟", "蔬菜", "花卉", "核桃", "马铃薯", "中药材", "生猪", "肉牛", "山羊", "水果"])
_SPECIALTY_LIVESTOCK = np.array([False] * 6 + [True] * 3 + [False])

_SUBSIDY_PROGRAMS = {
    "household": ("machinery_purchase", "livestock_breeding"),
    "enterprise": ("family_farm_support", "cooperative_demonstration", "agri_industrialization",
                   "individual_business_startup"),
}


# ---------------------------------------------------------------------------------------------------------
# The county
# ---------------------------------------------------------------------------------------------------------


@dataclass(eq=False)  # frames do not compare to a single bool; compare tables with pandas.testing
class County:
    """A synthetic county: every table of :mod:`ruralcredit.schema` plus the ground truth.

    Attributes
    ----------
    tables : dict of str to pandas.DataFrame
        One frame per table of :data:`ruralcredit.schema.TABLES`, in canonical dtypes; also
        reachable as attributes (``county.loans``).
    truth : dict of str to pandas.DataFrame
        ``"defaults"`` (subject_id, subject_type, default_12m, pd_true, open_loan), ``"patterns"``
        (pattern, entity_kind, entity_id, group_id, role) and ``"guarantee_groups"`` (group_id,
        subject_id, loan_id: the ordinary joint-liability groups).
    as_of : pandas.Timestamp
        The snapshot date; no event in any table is after it (see :data:`SCHEDULED_DATE_COLUMNS`).
    seed : int
    county_code : str
        Six-digit county code under Kunming (``5301xx``).
    meta : dict
        Small facts about the generation (households, villages, townships, county name), kept in the
        Parquet manifest.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    as_of: pd.Timestamp
    seed: int
    county_code: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and name in tables:
            return tables[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute or table {name!r}")

    def __repr__(self) -> str:  # never print frames: they hold resident ID numbers
        counts = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items())
        return (f"County(county_code={self.county_code!r}, seed={self.seed}, as_of={self.as_of.date()}, "
                f"{counts})")

    def validate(self) -> dict[str, pd.DataFrame]:
        """Validate every table and the references between them with :func:`schema.validate_all`.

        Returns
        -------
        dict of str to pandas.DataFrame
            The validated tables.

        Raises
        ------
        SchemaError
            If any table breaks its contract (a bug in the generator).
        """
        return schema.validate_all(self.tables)

    def summary(self) -> pd.DataFrame:
        """Counts at a glance: rows per table, groups per injected pattern, default and NPL rates.

        Returns
        -------
        pandas.DataFrame
            Columns ``section`` (``table``, ``pattern``, ``truth``, ``loans``), ``item`` and ``value``.
        """
        rows: list[tuple[str, str, float]] = [("table", k, float(len(v))) for k, v in self.tables.items()]
        pat = self.truth["patterns"]
        for p in PATTERNS:
            rows.append(("pattern", p, float(pat.loc[pat["pattern"] == p, "group_id"].nunique())))
        d = self.truth["defaults"]
        hh = d[d["subject_type"] == "household"]
        rows.append(("truth", "household_default_rate", float(hh["default_12m"].mean())))
        rows.append(("truth", "household_mean_pd", float(hh["pd_true"].mean())))
        rows.append(("truth", "borrower_default_rate", float(hh.loc[hh["open_loan"], "default_12m"].mean())))
        loans = self.tables["loans"]
        open_ = loans["closed_date"].isna()
        bal = loans.loc[open_, "balance"]
        npl = loans.loc[open_, "five_class"].isin(schema.NON_PERFORMING_CLASSES)
        rows.append(("loans", "open_loans", float(open_.sum())))
        rows.append(("loans", "npl_ratio_by_balance", float(bal[npl].sum() / max(bal.sum(), 1.0))))
        return pd.DataFrame(rows, columns=["section", "item", "value"])

    def to_parquet(self, directory: str | Path) -> Path:
        """Write one Parquet file per table, one per truth frame and a ``manifest.json``.

        Parameters
        ----------
        directory : str or Path
            Created if missing; existing files of the same names are replaced.

        Returns
        -------
        Path
            The directory.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, df in self.tables.items():
            df.to_parquet(out / f"{name}.parquet", index=False)
        for name, df in self.truth.items():
            df.to_parquet(out / f"truth_{name}.parquet", index=False)
        manifest = {
            "format": "ruralcredit.synth",
            "format_version": _FORMAT_VERSION,
            "seed": self.seed,
            "as_of": self.as_of.date().isoformat(),
            "county_code": self.county_code,
            "tables": {k: len(v) for k, v in self.tables.items()},
            "truth": {k: len(v) for k, v in self.truth.items()},
            "meta": self.meta,
        }
        (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return out

    @classmethod
    def from_parquet(cls, directory: str | Path) -> County:
        """Read a county written by :meth:`to_parquet`.

        Raises
        ------
        InputError
            If the directory has no manifest, the manifest is not one of ours, or a file is missing.
        """
        root = Path(directory)
        path = root / "manifest.json"
        if not path.is_file():
            raise InputError(f"no manifest.json in {str(root)!r}", argument="directory", value=str(root))
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"manifest.json is not JSON: {exc}", argument="directory", value=str(root)) from None
        if not isinstance(manifest, dict) or manifest.get("format") != "ruralcredit.synth":
            raise InputError("manifest.json is not a ruralcredit synthetic county", argument="directory",
                             value=str(root))

        def read(name: str) -> pd.DataFrame:
            f = root / f"{name}.parquet"
            if not f.is_file():
                raise InputError(f"missing {f.name} listed in the manifest", argument="directory",
                                 value=str(root))
            return pd.read_parquet(f)

        tables = {name: read(name) for name in manifest["tables"]}
        truth = {name: read(f"truth_{name}") for name in manifest["truth"]}
        return cls(tables=tables, truth=truth, as_of=pd.Timestamp(manifest["as_of"]), seed=int(manifest["seed"]),
                   county_code=str(manifest["county_code"]), meta=dict(manifest.get("meta", {})))


# ---------------------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------------------


def _rng(seed: int, part: str) -> np.random.Generator:
    """An independent, stable stream per generation step (crc32, unlike ``hash``, is not salted)."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(part.encode())]))


def _numbered(prefix: str, n: int, width: int, start: int = 1) -> pa.Array:
    """``prefix`` + zero-padded running numbers, as an Arrow string array."""
    if n and start + n - 1 >= 10**width:
        raise InputError(f"more than {10**width - 1:,} numbered records", argument="households", value=n)
    return _pa_join(prefix, _pa_int(np.arange(start, start + n, dtype=np.int64), width))


def _pa_int(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as Arrow strings, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(text, width=width, padding="0") if width else text


def _pa_join(*parts: Any) -> pa.Array:
    """Element-wise concatenation of Arrow string arrays and str scalars."""
    return pc.binary_join_element_wise(*parts, "")


def _pa(values: Any) -> pa.Array:
    """A numpy unicode or bytes array (or a list of str) as an Arrow string array."""
    a = np.asarray(values)
    if a.dtype.kind == "S":
        out = pa.array(a, type=pa.binary()).cast(pa.string())
    else:
        out = pa.array(a.astype(str) if a.dtype.kind != "U" else a, type=pa.string())
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out  # large inputs come chunked


def _take(values: pa.Array, idx: Any) -> pa.Array:
    """``values[idx]`` with -1 meaning missing."""
    idx = np.asarray(idx, dtype=np.int64)
    return pc.take(values, pa.array(idx, mask=idx < 0))


def _texts(values: pa.Array, idx: Any) -> np.ndarray:
    """``values[idx]`` as a numpy array of str (for the few labels that need Python strings)."""
    return np.asarray(_take(values, idx).to_pylist(), dtype=str) if len(np.atleast_1d(idx)) else \
        np.zeros(0, dtype=str)


def _cat(*parts: Any) -> np.ndarray:
    """Element-wise concatenation of unicode arrays and scalars."""
    out = np.asarray(parts[0], dtype=str)
    for p in parts[1:]:
        out = np.char.add(out, np.asarray(p, dtype=str))
    return out


def _join_chars(alphabet: str, digits: np.ndarray) -> np.ndarray:
    """Rows of ASCII symbol indices (n, w) -> n byte strings of width w, without a Python loop."""
    codes = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)[digits]
    n, w = digits.shape
    return np.ascontiguousarray(codes).view(f"S{w}").reshape(n)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calibrate(logit: np.ndarray, target: float, extra: np.ndarray | None = None) -> float:
    """Intercept ``c`` with mean(1 - (1 - sigmoid(c + logit)) (1 - extra)) = target (Newton steps)."""
    c = float(np.log(target / (1 - target)) - np.mean(logit))
    keep = np.ones_like(logit) if extra is None else 1.0 - extra
    for _ in range(40):
        p = _sigmoid(c + logit)
        f = np.mean(1.0 - (1.0 - p) * keep) - target
        g = np.mean(p * (1.0 - p) * keep)
        step = f / max(g, 1e-12)
        c -= step
        if abs(step) < 1e-9:
            break
    return c


def _std(x: np.ndarray) -> np.ndarray:
    sd = float(np.std(x))
    return (x - float(np.mean(x))) / (sd if sd > 0 else 1.0)


def _days(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.int64).astype("timedelta64[D]")


def _add_months(d: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar month arithmetic on ``datetime64[D]``: the day is clipped to the target month's length."""
    mo = d.astype("datetime64[M]")
    day = (d - mo.astype("datetime64[D]")).astype(np.int64)
    target = mo + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    return first + _days(np.minimum(day, length - 1))


def _choice(rng: np.random.Generator, options: np.ndarray, p: Any, size: int) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    return options[rng.choice(len(options), size=size, p=p / p.sum())]


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: the group of each row and the row's position within its group."""
    counts = np.asarray(counts, dtype=np.int64)
    group = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return group, np.arange(len(group)) - starts[group]


def _dt(d: np.ndarray) -> np.ndarray:
    return np.asarray(d, dtype="datetime64[D]").astype("datetime64[ns]")


_STR = pd.Series([], dtype="str").dtype


def _ser(values: Any, missing: np.ndarray | None = None) -> pd.Series:
    """A pandas ``str`` Series from an Arrow array (or numpy strings); ``missing`` entries become NaN."""
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else _pa(values)
    if missing is not None and np.any(missing):
        arr = pc.if_else(pa.array(np.asarray(missing, dtype=bool)), pa.scalar(None, pa.string()), arr)
    return pd.Series(pd.array(arr, dtype=_STR))


def _cats(categories: Any, codes: Any, missing: np.ndarray | None = None) -> pd.Series:
    """A ``str`` Series from codes into a small vocabulary (an Arrow ``take``); ``missing`` -> NaN."""
    codes = np.asarray(codes, dtype=np.int64)
    if missing is not None:
        codes = np.where(missing, -1, codes)
    return _ser(_take(_pa(np.asarray(categories, dtype=str)), codes))


def _money(x: np.ndarray, unit: float = 1.0) -> np.ndarray:
    return np.round(np.maximum(np.asarray(x, dtype=float), 0.0) / unit) * unit


# ---------------------------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------------------------


class _Build:
    """Working state of one generation: plain numpy arrays, turned into frames at the end."""

    def __init__(self, households: int, seed: int, as_of: pd.Timestamp, county_code: str) -> None:
        self.n = households
        self.seed = seed
        self.as_of = as_of
        self.A = np.datetime64(as_of.date(), "D")
        self.county = county_code
        self.county_name, self.county_short = COUNTIES.get(county_code, (f"{county_code}县", county_code))

    def rng(self, part: str) -> np.random.Generator:
        return _rng(self.seed, part)

    # ---------------------------------------------------------------- geography
    def geography(self) -> None:
        rng = self.rng("geography")
        n_v = max(10, round(self.n / 450))
        n_t = int(np.clip(round(n_v / 12), 3, 298))
        per_t = np.full(n_t, n_v // n_t)
        per_t[: n_v % n_t] += 1
        if per_t.max() > 199:
            raise InputError("too many villages for the 9-digit township ranges", argument="households",
                             value=self.n)
        n_town = max(1, min(99, round(0.4 * n_t)))
        if n_t - n_town > 199:
            n_town = n_t - 199
        kind = np.where(np.arange(n_t) < n_town, 100, 200)
        number = np.where(kind == 100, np.arange(n_t) + 1, np.arange(n_t) - n_town + 1) + kind
        t_codes = _cat(self.county, np.strings.zfill(number.astype(str), 3))
        grid = rng.permutation(len(_PLACE_A) * len(_PLACE_B))[:n_t]
        t_names = _cat(_PLACE_A[grid // len(_PLACE_B)], _PLACE_B[grid % len(_PLACE_B)],
                       np.where(kind == 100, "镇", "乡"))
        v_town, v_pos = _segments(per_t)
        pairs = np.concatenate([rng.permutation(len(_PLACE_A) * len(_PLACE_B))[:c] for c in per_t])
        v_names = _cat(_PLACE_A[pairs // len(_PLACE_B)], _PLACE_B[pairs % len(_PLACE_B)], "村")
        v_codes = _cat(t_codes[v_town], np.strings.zfill((201 + v_pos).astype(str), 3))
        self.v_town, self.t_codes, self.t_names = v_town, t_codes, t_names
        self.v_codes, self.v_names, self.n_v, self.n_t = v_codes, v_names, n_v, n_t
        self.v_class = np.where((v_pos == 0) & (kind[v_town] == 200), "210", "220")
        # village character: remoteness (mountain), economy, ethnic make-up, specialty
        mix = _ETHNIC_MIX.copy()
        for name, factor in _ETHNIC_BOOST.get(self.county, {}).items():
            mix[list(_ETHNIC).index(name)] *= factor
        self.ethnic_mix = mix / mix.sum()
        dom_p = self.ethnic_mix**0.7
        self.v_dominant = rng.choice(len(_ETHNIC), size=n_v, p=dom_p / dom_p.sum())
        self.v_remote = np.clip(rng.beta(2, 3, n_v) + 0.2 * (self.v_dominant != 0), 0, 1)
        self.v_econ = rng.normal(0, 0.3, n_v) - 0.35 * self.v_remote
        self.v_specialty = rng.integers(0, len(_SPECIALTIES), n_v)

    # ---------------------------------------------------------------- households and persons
    def households(self) -> None:
        rng = self.rng("households")
        n, A = self.n, self.A
        weights = rng.gamma(6.0, 1.0, self.n_v)
        extra = rng.choice(self.n_v, size=n - self.n_v, p=weights / weights.sum())
        village = np.sort(np.concatenate([np.arange(self.n_v), extra]))
        self.h_village = village
        self.v_size = np.bincount(village, minlength=self.n_v)
        self.v_start = np.cumsum(self.v_size) - self.v_size
        self.h_pos = np.arange(n) - self.v_start[village]
        remote, econ = self.v_remote[village], self.v_econ[village]

        head_age = np.clip(rng.normal(52, 12, n), 23, 85).astype(np.int64)
        head_male = rng.random(n) < 0.86
        u = rng.random(n)
        widow_p = np.clip(0.01 + 0.006 * (head_age - 50), 0.01, 0.35)
        marital = np.where(u < widow_p, 3, np.where(u < widow_p + 0.03, 2, 1))  # 1 married 2 divorced 3 widowed
        marital = np.where((head_age < 30) & (rng.random(n) < 0.35), 0, marital)  # single
        n_child = np.where(head_age < 24, 0, rng.poisson(np.where(marital == 0, 0.2, 1.5)))
        n_child = np.minimum(n_child, 5)
        n_parent = np.where(head_age < 60, (rng.random(n) < 0.35).astype(np.int64) + (rng.random(n) < 0.3), 0)
        spouse = (marital == 1).astype(np.int64)
        self.head_age, self.head_male, self.marital = head_age, head_male, marital

        # ethnicity of the household: mostly the village's dominant group
        own = rng.random(n) < 0.65
        eth = np.where(own, self.v_dominant[village], rng.choice(len(_ETHNIC), size=n, p=self.ethnic_mix))
        self.h_eth = eth

        # persons: head, spouse, children, parents; grouped by household, head first
        parts_hh = [np.arange(n), np.flatnonzero(spouse), np.repeat(np.arange(n), n_child),
                    np.repeat(np.arange(n), n_parent)]
        rel = np.concatenate([np.full(len(p), r) for p, r in zip(parts_hh, range(4), strict=True)])
        hh = np.concatenate(parts_hh)
        order = np.argsort(hh, kind="stable")
        hh, rel = hh[order], rel[order]
        m = len(hh)
        ha = head_age[hh]
        age = np.where(rel == 0, ha, 0)
        age = np.where(rel == 1, np.clip(ha + rng.integers(-6, 4, m), 20, 90), age)
        age = np.where(rel == 2, np.clip(ha - rng.integers(20, 38, m), 0, 60), age)
        age = np.where(rel == 3, np.clip(ha + rng.integers(20, 32, m), 45, 98), age)
        male = np.where(rel == 0, head_male[hh], rng.random(m) < 0.5)
        male = np.where(rel == 1, ~head_male[hh], male)
        birth = A - _days((age * 365.25 + rng.random(m) * 364).astype(np.int64) + 1)
        p_eth = eth[hh]
        mixed = (rel == 1) & (rng.random(m) < 0.12)
        p_eth = np.where(mixed, rng.choice(len(_ETHNIC), size=m, p=self.ethnic_mix), p_eth)
        byear = birth.astype("datetime64[Y]").astype(np.int64) + 1970
        edu_score = rng.normal(0, 1, m) + 0.045 * (byear - 1965) + 0.4 * econ[hh] - 0.3 * remote[hh]
        edu = np.searchsorted(np.array([-1.0, 0.2, 1.2, 1.9]), edu_score)
        edu = np.minimum(edu, np.select([age < 7, age < 13, age < 16, age < 19], [0, 1, 2, 3], 4))
        self.p_hh, self.p_rel, self.p_age, self.p_male, self.p_birth = hh, rel, age, male, birth
        self.p_eth, self.p_edu = p_eth, edu
        self.h_size = np.bincount(hh, minlength=n)
        working = (age >= 16) & (age <= 64)
        self.h_labour = np.bincount(hh, weights=working, minlength=n).astype(np.int64)
        self.h_head_person = np.flatnonzero(rel == 0)  # persons are grouped by household, head first
        self.h_spouse_person = np.full(n, -1)
        self.h_spouse_person[hh[rel == 1]] = np.flatnonzero(rel == 1)
        self.head_edu = edu[self.h_head_person]

        # health, conduct, ability
        pp = np.clip(0.02 + 0.006 * (head_age - 45), 0.01, 0.3)
        pf = np.clip(0.15 + 0.006 * (head_age - 40), 0.1, 0.45)
        u = rng.random(n)
        self.head_health = np.where(u < pp, 2, np.where(u < pp + pf, 1, 0))
        self.conduct = rng.normal(0, 1, n)  # latent; the village assessment is a noisy view of it
        ability = 0.35 * (self.head_edu - 2) + rng.normal(0, 0.9, n) + econ

        # land, livestock, income, assets (yuan, mu, cattle equivalents)
        spec = self.v_specialty[village]
        land = np.where(rng.random(n) < 0.05, 0.0,
                        np.exp(rng.normal(np.log(5.5) + 0.5 * remote, 0.6)))
        land = np.round(land, 1)
        stock_p = np.where(_SPECIALTY_LIVESTOCK[spec], 0.85, 0.6)
        livestock = np.where(rng.random(n) < stock_p,
                             np.round(np.exp(rng.normal(np.log(2.0) + 0.5 * _SPECIALTY_LIVESTOCK[spec], 0.8)), 1),
                             0.0)
        mult = np.exp(0.25 * ability + rng.normal(0, 0.3, n))
        operating = (1800 * land + 3500 * livestock + 8000) * mult
        wage = 16000 * np.maximum(self.h_labour - 1, 0) * (rng.random(n) < 0.65) * np.exp(rng.normal(0, 0.4, n))
        transfers = rng.uniform(500, 5000, n)
        income = operating + wage + transfers
        self.h_income = _money(income, 100)
        self.h_operating = np.minimum(_money(operating, 100), self.h_income)
        self.h_expenses = _money(income * rng.uniform(0.5, 0.9, n) + 2000, 100)
        area = np.round(np.clip(rng.normal(140, 45, n) + 10 * self.h_size, 40, 450))
        u = rng.random(n)
        p_earth = np.clip(0.05 + 0.3 * remote - 0.05 * ability, 0.02, 0.5)
        struct = np.where(u < p_earth, 2, np.where(u < p_earth + 0.2, 1, np.where(u < 0.97, 0, 3)))
        price = np.array([1600.0, 1000.0, 600.0, 800.0])[struct] * np.exp(econ + rng.normal(0, 0.25, n))
        self.h_area, self.h_struct = area, struct
        self.h_house_value = _money(area * price, 100)
        self.h_machinery = np.where(rng.random(n) < 0.45 + 0.02 * land.clip(0, 10),
                                    _money(np.exp(rng.normal(np.log(6000), 1.0, n)) * (1 + land / 20), 100), 0.0)
        self.h_vehicle = np.where(rng.random(n) < 0.5 + 0.1 * np.tanh(ability),
                                  _money(np.exp(rng.normal(np.log(35000), 0.7, n)), 100), 0.0)
        self.h_deposits = np.where(rng.random(n) < 0.88,
                                   _money(np.exp(rng.normal(np.log(income * 0.35) + 0.3 * ability, 1.0)), 10), 0.0)
        self.h_other = np.where(rng.random(n) < 0.3, _money(np.exp(rng.normal(np.log(10000), 1.0, n)), 100), 0.0)
        debt_p = np.clip(0.22 + 0.1 * rng.normal(0, 1, n) - 0.05 * ability, 0.02, 0.8)
        self.h_informal = np.where(rng.random(n) < debt_p,
                                   _money(np.exp(rng.normal(np.log(15000), 1.0, n)), 100), 0.0)
        self.h_insured = rng.random(n) < 0.55
        self.h_insurance = np.where(self.h_insured, _money(land * rng.uniform(800, 1200, n), 100), 0.0)
        self.h_honours = rng.poisson(0.12 + 0.25 * (ability > 1) + 0.15 * (self.conduct > 1))
        self.h_land, self.h_livestock = land, livestock
        noise = self.conduct + rng.normal(0, 0.8, n)
        assess = np.searchsorted(np.array([-1.6, -0.5, 1.0]), noise)  # poor, fair, good, excellent
        self.h_assess = np.where(rng.random(n) < 0.18, -1, 3 - assess)  # index into _ASSESSMENT; -1 missing
        crim_p = _sigmoid(-5.2 - 0.8 * self.conduct)
        has_crime = rng.random(n) < crim_p
        self.h_crime = np.where(has_crime, A - _days(rng.integers(30, 15 * 365, n)), np.datetime64("NaT"))
        self.h_survey = A - _days(rng.integers(0, 365, n))
        self.h_archived = rng.random(n) < 0.82
        lo = np.datetime64("2014-01-01").astype(np.int64)
        span = np.maximum(self.h_survey.astype(np.int64) - lo, 1)
        adate = (lo + (rng.random(n) * span).astype(np.int64)).astype("datetime64[D]")
        self.h_archived_date = np.where(self.h_archived, adate, np.datetime64("NaT"))

        # the latent risk: observable facts (standardised) plus conduct and an unobserved part
        per_head = np.log(self.h_income / self.h_size)
        recent_crime = ~np.isnat(self.h_crime) & (self.h_crime >= A - _days(5 * 365))
        z = (-0.55 * _std(per_head)
             + 0.40 * _std(np.log1p(self.h_informal / self.h_income * 10))
             - 0.25 * _std(np.log1p(self.h_deposits))
             + 0.45 * (self.head_health == 2) + 0.15 * (self.head_health == 1)
             + 0.70 * recent_crime - 0.15 * np.minimum(self.h_honours, 3)
             + 0.25 * (head_age > 65) - 0.2 * self.h_insured
             - 0.15 * (self.h_labour / self.h_size)
             - 0.4 * econ)
        self.h_risk = 0.7 * z + 0.45 * self.conduct + rng.normal(0, 0.85, n)

    # ---------------------------------------------------------------- enterprises and roles
    def enterprises(self) -> None:
        rng = self.rng("enterprises")
        n, A = self.n, self.A
        n_ff = max(3, round(0.015 * n))
        n_coop = max(3, round(n / 180))
        n_ent = max(2, round(n / 600))
        n_ib = max(3, round(0.03 * n))
        kind = np.repeat(np.arange(4), [n_ff, n_coop, n_ent, n_ib])
        e = len(kind)
        # operators / legal representatives: heads of distinct households (family farms, individual
        # businesses) or any local head (cooperatives, enterprises); half the enterprises' representatives
        # live outside the county
        younger = np.flatnonzero(self.head_age < 68)
        operator_hh = rng.choice(younger, size=e, replace=False) if len(younger) >= e else rng.choice(n, size=e)
        village = self.h_village[operator_hh]
        self.e_kind, self.e_hh, self.e_village = kind, operator_hh, village
        ff, coop, ent, ib = (kind == k for k in range(4))
        self.e_outside_rep = ent & (rng.random(e) < 0.5)

        lo = {0: "2014-01-01", 1: "2008-01-01", 2: "2005-01-01", 3: "2010-01-01"}
        lo_days = np.array([np.datetime64(lo[k]).astype(np.int64) for k in range(4)])[kind]
        hi = (A - np.timedelta64(60, "D")).astype(np.int64)
        reg = (lo_days + (rng.random(e) * (hi - lo_days)).astype(np.int64)).astype("datetime64[D]")
        self.e_reg = reg

        # registration: family farms 60% 92, 10% 91, 30% unregistered; others by kind
        u = rng.random(e)
        cat = np.select([coop, ent, ib, ff & (u < 0.6), ff & (u < 0.7)], ["93", "91", "92", "92", "91"], "")
        self.e_registered = cat != ""
        new = reg >= np.datetime64("2015-10-01")
        idx = np.arange(e, dtype=np.int64)
        a1 = int(rng.integers(1, 31**6))
        a1 += int(a1 % 31 == 0)  # a multiplier prime to 31: an affine bijection modulo 31**6, so no repeats
        body_new = (a1 * idx + int(rng.integers(0, 31**6))) % 31**6
        digs = np.stack([(body_new // 31**k) % 31 for k in range(5, -1, -1)], axis=1)
        new_bodies = np.char.add("MA", _join_chars("0123456789ABCDEFGHJKLMNPQRTUWXY", digs).astype("U6"))
        a2 = int(rng.integers(1, 10**7)) * 10 + int(rng.choice([1, 3, 7, 9]))
        body_old = (a2 * idx + int(rng.integers(0, 10**8))) % 10**8
        old_bodies = np.strings.zfill(body_old.astype(str), 8)
        bodies = np.where(new, new_bodies, old_bodies)
        reg_div = np.where(rng.random(e) < 0.92, self.county, _OUTSIDE_CODES[rng.integers(0, 5, e)])
        uscc = np.full(e, "", dtype="<U18")
        r = self.e_registered
        if r.any():
            uscc[r] = ids.make_usccs(cat[r], reg_div[r], bodies[r])
        self.e_uscc = uscc

        # size and finances (yuan, mu)
        land = np.select([ff, coop, ent, ib], [np.exp(rng.normal(np.log(120), 0.6, e)),
                                               np.exp(rng.normal(np.log(400), 0.9, e)),
                                               np.exp(rng.normal(np.log(300), 1.2, e)), np.zeros(e)])
        land = np.round(np.where(ent & (rng.random(e) < 0.3), 0.0, land), 1)
        revenue = np.select([ff, coop, ent, ib], [land * rng.uniform(2000, 6000, e),
                                                  np.exp(rng.normal(np.log(1.5e6), 0.9, e)),
                                                  np.exp(rng.normal(np.log(1.2e7), 1.0, e)),
                                                  np.exp(rng.normal(np.log(3.0e5), 0.7, e))])
        assets = revenue * np.exp(rng.normal(np.log(1.3), 0.4, e))
        lev = rng.beta(2, 4, e)
        margin = rng.normal(0.08, 0.1, e)
        growth = np.exp(rng.normal(0.03, 0.2, e))
        members = np.where(coop, np.clip(np.exp(rng.normal(np.log(25), 0.7, e)), 5, 300).astype(np.int64), 0)
        members = np.where(coop, np.minimum(members, self.v_size[village]), 0)
        employees = np.select([ff, coop, ent, ib], [rng.integers(0, 10, e), rng.integers(2, 30, e),
                                                    np.exp(rng.normal(np.log(40), 0.8, e)).astype(np.int64),
                                                    rng.integers(0, 5, e)])
        self.e_land, self.e_revenue, self.e_assets = land, _money(revenue, 100), _money(assets, 100)
        self.e_liab = _money(assets * lev, 100)
        self.e_prev = _money(revenue / growth, 100)
        self.e_profit = np.round(revenue * margin, -2)
        self.e_members, self.e_employees = members, employees
        self.e_capital = _money(np.select([ff, coop, ent, ib], [rng.uniform(1e5, 2e6, e), rng.uniform(1e5, 5e6, e),
                                                                rng.uniform(1e6, 5e7, e), rng.uniform(1e4, 5e5, e)]),
                                1000)
        self.e_insurance = np.where(rng.random(e) < 0.5, _money(land * rng.uniform(800, 1500, e), 100), 0.0)
        self.e_honours = rng.poisson(0.3, e)
        self.e_demo = np.where(ib, 0, _choice(rng, np.arange(5), [0.78, 0.12, 0.06, 0.03, 0.01], e))
        self.e_yield = np.where(coop & (rng.random(e) < 0.2), np.round(rng.uniform(0.02, 0.05, e), 3), np.nan)
        self.e_fundraising = np.zeros(e, dtype=bool)
        spec = _SPECIALTIES[self.v_specialty[village]]
        vname = self.v_names[village]
        self.e_spec, self.e_vname = spec, vname
        r_rep = self.h_risk[operator_hh]
        self.e_risk = (0.8 * _std(self.e_liab / np.maximum(self.e_assets, 1)) - 0.5 * _std(margin)
                       - 0.3 * _std(np.log(growth)) - 0.3 * (self.e_demo > 0) + 0.4 * r_rep
                       + rng.normal(0, 0.6, e))

    def roles(self) -> None:
        rng = self.rng("roles")
        e, A = len(self.e_kind), self.A
        kind = self.e_kind
        head = self.h_head_person
        # outside legal representatives of enterprises are new persons with no household
        n_out = int(self.e_outside_rep.sum())
        self.out_first = len(self.p_hh)
        out_person = self.out_first + np.arange(n_out)
        rep = head[self.e_hh].copy()
        rep[self.e_outside_rep] = out_person
        self.e_rep = rep
        legal = (kind == 1) | (kind == 2) | np.char.startswith(self.e_uscc, "91")
        role_main = np.where(legal, 0, 1)  # legal_representative / principal
        rows_p, rows_e, rows_r, rows_f, rows_t = [], [], [], [], []
        # changes of legal representative: the earlier one held it from registration to the change
        eligible = legal & (self.e_reg < self.A - _days(3 * 365))
        changed = eligible & (rng.random(e) < 0.25)
        if eligible.any() and not changed.any():  # even a small county shows one change
            changed[np.flatnonzero(eligible)[0]] = True
        span = (A - _days(30) - self.e_reg - _days(365)).astype(np.int64)
        change = self.e_reg + _days(365 + (rng.random(e) * np.maximum(span, 1)).astype(np.int64))
        pos = rng.integers(0, np.maximum(self.v_size[self.e_village], 1))
        prev_rep = head[self.v_start[self.e_village] + pos]
        changed &= prev_rep != rep
        self.e_change, self.e_changed, self.e_prev_rep = change, changed, prev_rep
        start = np.where(changed, change, self.e_reg)
        rows_p += [rep, prev_rep[changed]]
        rows_e += [np.arange(e), np.flatnonzero(changed)]
        rows_r += [role_main, np.zeros(int(changed.sum()), np.int64)]
        rows_f += [start, self.e_reg[changed]]
        rows_t += [np.full(e, np.datetime64("NaT"), "datetime64[D]"), change[changed]]
        # actual controllers and responsible persons of enterprises
        ent = np.flatnonzero((kind == 2) & (rng.random(e) < 0.4))
        ctrl = head[self.v_start[self.e_village[ent]] + rng.integers(0, self.v_size[self.e_village[ent]])]
        ok = ctrl != rep[ent]
        rows_p.append(ctrl[ok])
        rows_e.append(ent[ok])
        rows_r.append(np.full(int(ok.sum()), 2))
        rows_f.append(self.e_reg[ent[ok]])
        rows_t.append(np.full(int(ok.sum()), np.datetime64("NaT"), "datetime64[D]"))
        resp = np.flatnonzero(((kind == 2) | (kind == 1)) & (rng.random(e) < 0.3))
        rp = head[self.v_start[self.e_village[resp]] + rng.integers(0, self.v_size[self.e_village[resp]])]
        ok = rp != rep[resp]
        rows_p.append(rp[ok])
        rows_e.append(resp[ok])
        rows_r.append(np.full(int(ok.sum()), 3))
        rows_f.append(np.maximum(self.e_reg[resp[ok]], A - _days(rng.integers(30, 2000, int(ok.sum())))))
        rows_t.append(np.full(int(ok.sum()), np.datetime64("NaT"), "datetime64[D]"))
        # cooperative members: heads of households of the cooperative's village
        coops = np.flatnonzero(kind == 1)
        c_of, c_pos = _segments(self.e_members[coops])
        cv = self.e_village[coops][c_of]
        off = rng.integers(0, self.v_size[self.e_village[coops]])[c_of]
        member_hh = self.v_start[cv] + (off + c_pos) % self.v_size[cv]
        rows_p.append(head[member_hh])
        rows_e.append(coops[c_of])
        rows_r.append(np.full(len(c_of), 5))
        joined = self.e_reg[coops][c_of] + _days(rng.integers(0, 400, len(c_of)))
        rows_f.append(np.minimum(joined, A - _days(1)))
        rows_t.append(np.full(len(c_of), np.datetime64("NaT"), "datetime64[D]"))
        self.coop_member_hh = member_hh
        self.coop_member_of = coops[c_of]
        # professional farm managers (农业职业经理人): adults with a certificate, managing an organisation
        adults = np.flatnonzero((self.p_age >= 25) & (self.p_age <= 55) & (self.p_rel <= 2))
        n_pm = min(max(2, round(self.n / 400)), len(adults))
        pm = rng.choice(adults, size=n_pm, replace=False)
        pm.sort()
        self.pm = pm
        self.pm_cert = _choice(rng, np.arange(3), [0.6, 0.3, 0.1], n_pm)
        self.pm_years = np.round(np.minimum(rng.uniform(2, 25, n_pm), self.p_age[pm] - 18), 1)
        managed = np.flatnonzero(kind != 3)
        where = managed[rng.integers(0, len(managed), n_pm)]
        rows_p.append(pm)
        rows_e.append(where)
        rows_r.append(np.full(n_pm, 4))
        rows_f.append(np.maximum(self.e_reg[where], A - _days(rng.integers(30, 6 * 365, n_pm))))
        rows_t.append(np.full(n_pm, np.datetime64("NaT"), "datetime64[D]"))
        self.r_person = np.concatenate(rows_p)
        self.r_ent = np.concatenate(rows_e)
        self.r_role = np.concatenate(rows_r)
        self.r_from = np.concatenate(rows_f).astype("datetime64[D]")
        self.r_to = np.concatenate(rows_t).astype("datetime64[D]")
        # outside persons' facts
        self.out_n = n_out
        self.out_age = rng.integers(30, 60, n_out)
        self.out_male = rng.random(n_out) < 0.8

    # ---------------------------------------------------------------- persons' identities
    def identities(self) -> None:
        rng = self.rng("identities")
        A = self.A
        n_out = self.out_n
        age = np.concatenate([self.p_age, self.out_age])
        male = np.concatenate([self.p_male, self.out_male])
        birth = np.concatenate([self.p_birth, A - _days((self.out_age * 365.25 + rng.random(n_out) * 364)
                                                          .astype(np.int64) + 1)])
        eth = np.concatenate([self.p_eth, np.zeros(n_out, np.int64)])
        hh = np.concatenate([self.p_hh, np.full(n_out, -1)])
        m = len(age)
        addr = np.where(rng.random(m) < 0.9, self.county, _MIGRANT_CODES[rng.integers(0, len(_MIGRANT_CODES), m)])
        addr[len(self.p_hh):] = _OUTSIDE_CODES[rng.integers(0, len(_OUTSIDE_CODES), n_out)]
        # unique sequences: rank within (address, birth date, gender), odd for men
        addr_i = np.unique(addr, return_inverse=True)[1].astype(np.int64)
        key = (addr_i << 40) + (birth.astype(np.int64) + 100_000) * 2 + male
        order = np.argsort(key, kind="stable")
        sk = key[order]
        first = np.r_[True, sk[1:] != sk[:-1]]
        grp = np.cumsum(first) - 1
        starts = np.flatnonzero(first)
        rank = np.arange(m) - starts[grp]
        if rank.max(initial=0) >= 500:  # pragma: no cover - needs ~30 million persons
            raise InputError("too many persons born on one day for unique ID numbers", argument="households",
                             value=self.n)
        half = (rank + rng.integers(0, 500, len(starts))[grp]) % 500
        seq = np.empty(m, np.int64)
        seq[order] = 2 * half + male[order]
        chunks = []
        step = 1 << 19
        for lo in range(0, m, step):  # chunks bound the temporary digit matrices, not a loop per record
            chunks.append(_pa(ids.make_resident_ids(addr[lo:lo + step], birth[lo:lo + step], seq[lo:lo + step])))
        id_numbers = pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())
        # names: surname by ethnicity (children take the head's), given name by gender
        surname = np.empty(m, dtype="<U1")
        for i, e_name in enumerate(_ETHNIC):
            sel = eth == i
            pool = np.array(list(_SURNAMES[e_name]))
            w = 1.0 / np.arange(1, len(pool) + 1) ** 0.6
            surname[sel] = pool[rng.choice(len(pool), size=int(sel.sum()), p=w / w.sum())]
        inherit = np.flatnonzero((hh >= 0) & (np.concatenate([self.p_rel, np.zeros(n_out, np.int64)]) == 2))
        surname[inherit] = surname[self.h_head_person[hh[inherit]]]
        chars = np.where(male[:, None], _MALE_CHARS[rng.integers(0, len(_MALE_CHARS), (m, 2))],
                         _FEMALE_CHARS[rng.integers(0, len(_FEMALE_CHARS), (m, 2))])
        second = np.where(rng.random(m) < 0.3, "", chars[:, 1])
        self.names = _cat(surname, chars[:, 0], second)
        self.id_numbers, self.all_birth, self.all_male, self.all_eth, self.all_hh = id_numbers, birth, male, eth, hh
        self.all_age = age
        rel_all = np.concatenate([self.p_rel, np.full(n_out, 4)])
        self.all_rel = rel_all
        edu_out = _choice(rng, np.arange(5), [0.0, 0.05, 0.2, 0.35, 0.4], n_out)
        self.all_edu = np.concatenate([self.p_edu, edu_out])
        relig = np.full(m, -1, dtype=np.int64)
        u = rng.random(m)
        for e_name, (rel_name, p) in _RELIGION.items():
            sel = (eth == list(_ETHNIC).index(e_name)) & (u < p)
            relig[sel] = _RELIGIONS.index(rel_name)
        self.religion = relig

    # ---------------------------------------------------------------- ids of subjects
    def subject_ids(self) -> None:
        c = self.county
        self.n_e = len(self.e_kind)
        # one integer space for every subject: households, then enterprises, then persons
        self.all_ids = pa.concat_arrays([_numbered(f"H{c}-", self.n, 7), _numbered(f"E{c}-", self.n_e, 6),
                                         _numbered(f"P{c}-", len(self.all_age), 8)])
        self.E0 = self.n
        self.P0 = self.n + self.n_e

    def _id(self, idx: Any) -> np.ndarray:
        return _texts(self.all_ids, idx)

    # ---------------------------------------------------------------- loans
    def officers(self, inst: np.ndarray, township: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Officer codes (index into ``officer_vocab``): an officer of ``inst`` in ``township``."""
        per = np.array([x[4] for x in _INSTITUTIONS])
        k = (rng.random(len(inst)) * per[inst]).astype(np.int64)
        return (np.asarray(inst) * self.n_t + np.asarray(township)) * _MAX_OFFICERS + k

    @property
    def officer_vocab(self) -> np.ndarray:
        """Officer ids such as ``RCC-101-02``: institution, township number, officer number."""
        inst, town, k = np.unravel_index(np.arange(len(_INSTITUTIONS) * self.n_t * _MAX_OFFICERS),
                                         (len(_INSTITUTIONS), self.n_t, _MAX_OFFICERS))
        codes = np.array([x[0] for x in _INSTITUTIONS])
        return _cat(codes[inst], "-", np.strings.slice(self.t_codes[town], 6, 9), "-",
                    np.strings.zfill((k + 1).astype(str), 2))

    def base_loans(self) -> dict[str, np.ndarray]:
        """Ordinary loans of households, organisations and managers over the five years before as_of."""
        rng = self.rng("loans")
        n, A = self.n, self.A
        # households
        p_borrow = np.clip(0.30 + 0.10 * self.h_archived + 0.02 * np.minimum(self.h_land, 10)
                           - 0.10 * (self.head_age > 70), 0.05, 0.9)
        borrower = rng.random(n) < p_borrow
        count = np.where(borrower, 1 + np.minimum(rng.poisson(0.5, n), 3), 0)
        hb = np.repeat(np.arange(n), count)
        L = len(hb)
        product = _choice(rng, np.arange(5), [0.60, 0.17, 0.04, 0.09, 0.10], L)
        # consumer / mortgage purposes differ from production loans
        prod_purpose = _choice(rng, np.arange(10), [0.42, 0.30, 0.05, 0.10, 0.03, 0, 0, 0, 0, 0.10], L)
        cons_purpose = _choice(rng, np.arange(10), [0, 0, 0, 0, 0, 0.45, 0.15, 0.2, 0.15, 0.05], L)
        house_purpose = _choice(rng, np.arange(10), [0, 0, 0.2, 0.2, 0, 0, 0.6, 0, 0, 0], L)
        purpose = np.select([product == _P["consumer"], product == _P["mortgage"]], [cons_purpose, house_purpose],
                            prod_purpose)
        scale = np.select(
            [product == _P["micro_credit"], product == _P["guaranteed"], product == _P["mortgage"],
             product == _P["business"]], [40000, 50000, 200000, 100000], 20000)
        amount = scale * np.exp(rng.normal(0, 0.45, L) + 0.3 * _std(np.log(self.h_income))[hb])
        lo, hi = np.select([product == _P["mortgage"]], [50000], 3000), np.select(
            [product == _P["micro_credit"], product == _P["consumer"]], [200000, 100000], 1_000_000)
        amount = np.clip(np.round(amount, -3), lo, hi)
        sub = {"borrower": hb, "product": product, "purpose": purpose, "amount": amount.astype(float),
               "risk": self.h_risk[hb], "township": self.v_town[self.h_village[hb]],
               "btype": np.zeros(L, np.int64)}
        # organisations: half borrow; managers: a third
        e = self.n_e
        e_count = np.where(rng.random(e) < 0.45, 1 + np.minimum(rng.poisson(0.6, e), 3), 0)
        eb = np.repeat(np.arange(e), e_count)
        el = len(eb)
        kind = self.e_kind[eb]
        e_scale = np.array([250000.0, 400000.0, 1500000.0, 80000.0])[kind]
        e_amount = np.clip(np.round(e_scale * np.exp(rng.normal(0, 0.6, el)), -3), 10000, 10_000_000)
        e_product = np.where(rng.random(el) < 0.7, _P["business"],
                             np.where(rng.random(el) < 0.5, _P["guaranteed"], _P["mortgage"]))
        e_purpose = np.where(kind == 3, np.where(rng.random(el) < 0.7, _U["trade"], _U["tourism"]),
                             _choice(rng, np.arange(10), [0.45, 0.25, 0.2, 0.05, 0.05, 0, 0, 0, 0, 0], el))
        pm = self.pm
        pm_b = pm[rng.random(len(pm)) < 0.35]
        pl = len(pm_b)
        parts = [
            sub,
            {"borrower": self.E0 + eb, "product": e_product, "purpose": e_purpose, "amount": e_amount,
             "risk": self.e_risk[eb], "township": self.v_town[self.e_village[eb]],
             "btype": 1 + kind},
            {"borrower": self.P0 + pm_b, "product": np.full(pl, _P["business"]),
             "purpose": np.full(pl, _U["planting"]),
             "amount": np.clip(np.round(80000 * np.exp(rng.normal(0, 0.5, pl)), -3), 10000, 500000),
             "risk": self.h_risk[self.p_hh[pm_b]], "township": self.v_town[self.h_village[self.p_hh[pm_b]]],
             "btype": np.full(pl, 5)},
        ]
        out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        L = len(out["borrower"])
        out["issue"] = A - _days(rng.integers(1, 5 * 365, L))
        return self._terms(out, rng)

    def _terms(self, d: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fill institution, officer, rate, term, frequency and behaviour where not given."""
        L = len(d["borrower"])
        A = self.A
        product = d["product"]
        if "inst" not in d:
            d["inst"] = _choice(rng, np.arange(len(_INSTITUTIONS)), [x[2] for x in _INSTITUTIONS], L)
        if "officer" not in d:
            d["officer"] = self.officers(d["inst"], d["township"], rng)
        if "term" not in d:
            term = np.where(product == _P["mortgage"], rng.choice([36, 60], L),
                            rng.choice([12, 24, 36], L, p=[0.4, 0.3, 0.3]))
            freq = np.where((product == _P["consumer"]) | (product == _P["mortgage"]), 1,
                            np.where(rng.random(L) < 0.7, 3, 1))
            lump = (term == 12) & (product == _P["micro_credit"]) & (rng.random(L) < 0.3)
            d["term"], d["freq"] = term, np.where(lump, 12, freq)
        if "rate" not in d:
            base = np.array([x[3] for x in _INSTITUTIONS])[d["inst"]]
            years_ago = (A - d["issue"]).astype(np.int64) / 365.0
            rate = base + 0.004 * years_ago + 0.003 * np.clip(d["risk"], -2, 3) + rng.normal(0, 0.004, L)
            d["rate"] = np.round(np.clip(rate, 0.03, 0.24), 4)
        n_inst = d["term"] // d["freq"]
        d["n"] = n_inst
        risk = d["risk"]
        if "default_from" not in d:
            p_def = _sigmoid(-4.1 + 0.9 * risk + 0.3 * (d["btype"] > 0))
            defaults = rng.random(L) < p_def
            d["default_from"] = np.where(defaults, (rng.random(L) * n_inst).astype(np.int64), n_inst)
            # Lateness is a habit of a few borrowers, not a coin every borrower tosses each instalment:
            # about one borrower in ten pays late often; the rest almost never. (Independent 4% draws
            # per instalment would make nearly half of all borrowers "late in the last 12 months",
            # and no village could meet the on-time-borrower criteria real rules use.)
            habitual = rng.random(L) < _sigmoid(-2.9 + 0.9 * risk)
            d["late_p"] = np.where(habitual, 0.25, 0.002)
            d["cure_after"] = np.where(rng.random(L) < 0.4, rng.integers(20, 500, L), -1)
            d["prepay"] = (~defaults) & (n_inst >= 2) & (rng.random(L) < 0.1)
        d.setdefault("usage", np.zeros(L, np.int64))
        return d

    def engine(self, d: dict[str, np.ndarray]) -> None:
        """Schedules, payments and the snapshot status of every loan, vectorised over instalments."""
        rng = self.rng("engine")
        A = self.A
        L = len(d["borrower"])
        n = d["n"]
        li, k = _segments(n)
        due = _add_months(d["issue"][li], (k + 1) * d["freq"][li])
        amount = d["amount"]
        pp = np.round(amount / n, 2)
        principal = np.where(k == n[li] - 1, np.round(amount[li] - (n[li] - 1) * pp[li], 2), pp[li])
        outstanding = amount[li] - k * pp[li]
        interest = outstanding * d["rate"][li] * d["freq"][li] / 12.0
        due_amount = np.round(principal + interest, 2)
        # first-due date of the default instalment; defaults not yet visible on as_of are dropped
        df = d["default_from"]
        starts = np.cumsum(n) - n
        df_due = np.where(df < n, due[starts + np.minimum(df, n - 1)], np.datetime64("NaT"))
        visible = ~np.isnat(df_due) & (df_due <= A)
        df = np.where(visible, df, n)
        cure = np.where(visible & (d["cure_after"] >= 0), df_due + _days(np.maximum(d["cure_after"], 0)),
                        np.datetime64("NaT"))
        cure = np.where(cure <= A - _days(1), cure, np.datetime64("NaT"))
        # prepayment: after a random instalment, the rest paid at once
        pk = np.where(d["prepay"] & (df == n), 1 + (rng.random(L) * np.maximum(n - 1, 1)).astype(np.int64), -1)
        pk_due = np.where(pk > 0, due[starts + np.maximum(pk - 1, 0)], np.datetime64("NaT"))
        pdate = pk_due + _days(rng.integers(5, 60, L))
        ok_pre = (pk > 0) & (pdate <= A - _days(1))
        pk = np.where(ok_pre, pk, -1)
        # per instalment
        is_def = k >= df[li]
        gap = np.minimum(d["freq"][li] * 28 - 3, 60)  # late payments never run into the next instalment
        late = (rng.random(len(li)) < d["late_p"][li]) & (pk[li] < 0)
        late_days = np.where(late, np.minimum(rng.geometric(1 / 12, len(li)), gap), 0)
        on = due + _days(late_days)
        paid = np.where(~is_def & (on <= A), on, np.datetime64("NaT"))
        cured = is_def & ~np.isnat(cure[li])
        paid = np.where(cured, cure[li], paid)
        pre = (pk[li] > 0) & (k >= pk[li])
        paid = np.where(pre, pdate[li], paid)
        is_paid = ~np.isnat(paid)
        # snapshot per loan
        unpaid_due = np.where(~is_paid & (due <= A), due.astype(np.int64), np.iinfo(np.int64).max)
        first_unpaid = np.minimum.reduceat(unpaid_due, starts) if L else unpaid_due
        overdue = np.where(first_unpaid < np.iinfo(np.int64).max, A.astype(np.int64) - first_unpaid, 0)
        paid_principal = np.add.reduceat(np.where(is_paid, principal, 0.0), starts) if L else np.zeros(0)
        balance = np.round(np.clip(amount - paid_principal, 0, None), 2)
        n_paid = np.add.reduceat(is_paid.astype(np.int64), starts) if L else np.zeros(0, np.int64)
        closed = n_paid == n
        last_paid = np.maximum.reduceat(np.where(is_paid, paid.astype(np.int64), -(10**9)), starts) if L else \
            np.zeros(0, np.int64)
        closed_date = np.where(closed, last_paid.astype("datetime64[D]"), np.datetime64("NaT"))
        balance = np.where(closed, 0.0, balance)
        # worst arrears ever: the date a loan first passed 90 days overdue (credit report negative)
        bad_cure = ~np.isnat(cure) & ((cure - df_due).astype(np.int64) > 90)
        bad_now = overdue > 90
        bad_date = np.where(bad_cure | bad_now, df_due + _days(91), np.datetime64("NaT"))
        capped = np.minimum(first_unpaid, A.astype(np.int64))
        bad_date = np.where(bad_now & np.isnat(df_due), (capped + 91).astype("datetime64[D]"), bad_date)
        # five-category class (DOMAIN.md section 4): floors by days overdue, then the 20% rule
        floor = np.select([overdue > 360, overdue > 270, overdue > 90, overdue > 0], [4, 3, 2, 1], 0)
        bump = (~closed) & (floor == 0) & (rng.random(L) < 0.03 * _sigmoid(d["risk"]))
        cls = np.maximum(floor, bump.astype(np.int64))
        cls = np.where((floor == 1) & (overdue > 60) & (rng.random(L) < 0.15), 2, cls)
        borrower = d["borrower"]
        tot = np.bincount(borrower, weights=np.where(closed, 0.0, balance), minlength=len(self.all_ids))
        bad_bal = np.bincount(borrower, weights=np.where(overdue > 90, balance, 0.0), minlength=len(self.all_ids))
        share = np.divide(bad_bal, tot, out=np.zeros_like(tot), where=tot > 0)
        cls = np.where((~closed) & (share[borrower] > 0.2), np.maximum(cls, 2), cls)
        cls = np.where(closed, 0, cls)
        self.loans = d
        d.update(maturity=_add_months(d["issue"], d["term"]), balance=balance, overdue=overdue, cls=cls,
                 closed=closed, closed_date=closed_date, bad_date=bad_date, df=df, df_due=df_due)
        self.rep_start = starts
        self.rep = {"loan": li, "k": k, "due": due, "due_amount": due_amount, "paid": paid,
                    "paid_amount": np.where(is_paid, due_amount, np.nan)}

    # ---------------------------------------------------------------- patterns (loans part)
    def _free(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` households not used by another pattern (from one shuffled queue)."""
        if not hasattr(self, "_queue"):
            self._queue, self._qpos = rng.permutation(self.n), 0
        out: list[np.ndarray] = []
        need = size
        while need > 0:
            if self._qpos >= self.n:
                raise InputError("too few households for the injected patterns", argument="households",
                                 value=self.n)
            chunk = self._queue[self._qpos:self._qpos + 2 * need + 8]
            self._qpos += len(chunk)
            free = chunk[~self.taken[chunk]][:need]
            self.taken[free] = True
            out.append(free)
            need -= len(free)
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def _free_in(self, rng: np.random.Generator, lo: int, hi: int, size: int) -> np.ndarray:
        """Up to ``size`` distinct free households with index in [lo, hi) (one township or village)."""
        cand = lo + rng.permutation(hi - lo)
        pick = cand[~self.taken[cand]][:size]
        self.taken[pick] = True
        return pick

    def _loans_for(self, borrower: np.ndarray, **kw: Any) -> dict[str, np.ndarray]:
        """A block of pattern loans: borrower facts looked up, the rest given (scalars broadcast)."""
        m = len(borrower)
        is_hh = borrower < self.E0
        hh = np.where(is_hh, borrower, 0)
        ent = np.where(is_hh, 0, borrower - self.E0)
        d = {"borrower": borrower, "btype": np.where(is_hh, 0, 1 + self.e_kind[ent]),
             "risk": np.where(is_hh, self.h_risk[hh], self.e_risk[ent]),
             "township": np.where(is_hh, self.v_town[self.h_village[hh]], self.v_town[self.e_village[ent]])}
        for key, v in kw.items():
            d[key] = np.broadcast_to(np.asarray(v), (m,)).copy()
        return d

    def pattern_loans(self) -> dict[str, dict[str, np.ndarray]]:
        """Loans of the injected patterns, with forced behaviour where the pattern needs it."""
        rng = self.rng("patterns")
        n, A = self.n, self.A
        self.taken = np.zeros(n, dtype=bool)
        parts: dict[str, dict[str, np.ndarray]] = {}

        # --- impersonated-loan clusters: households of one village; the first is the real user
        n_imp = max(1, round(n / 2000))
        big = np.flatnonzero(self.v_size >= 12)
        vill = big[rng.integers(0, len(big), n_imp)]
        sizes, k0s = rng.integers(4, 8, n_imp), rng.integers(2, 5, n_imp)
        real, borrowers, group, issue, officer, k0 = [], [], [], [], [], []
        for g in range(n_imp):  # one iteration per cluster (households / 2000), a handful of rows each
            v, size = vill[g], int(sizes[g])
            members = self._free_in(rng, int(self.v_start[v]), int(self.v_start[v] + self.v_size[v]), size + 1)
            if len(members) < size + 1:
                self.taken[members] = False
                continue
            real.append(members[0])
            borrowers.append(members[1:])
            group.append(np.full(size, len(real) - 1))
            issue0 = _add_months(np.array([A]), np.array([-3 * (k0s[g] + 1)]))[0] - _days(int(rng.integers(30, 150)))
            issue.append(issue0 + _days(rng.integers(0, 14, size)))
            officer.append(np.full(size, self.officers(np.array([_RCC]), np.array([self.v_town[v]]), rng)[0]))
            k0.append(np.full(size, k0s[g]))
        imp_b = np.concatenate(borrowers)
        self.imp = {"real": np.array(real, dtype=np.int64), "borrowers": imp_b, "group": np.concatenate(group),
                    "shared_address": np.arange(len(real)) % 2 == 0}
        self.imp["officer"] = np.concatenate(officer)
        m = len(imp_b)
        parts["imp"] = self._loans_for(
            imp_b, product=_P["guaranteed"], purpose=_U["planting"], amount=np.round(rng.uniform(30, 50, m)) * 1000,
            issue=np.concatenate(issue), inst=_RCC, officer=self.imp["officer"], term=24, freq=3,
            default_from=np.concatenate(k0), late_p=0.0, cure_after=-1, prepay=False, usage=3)

        # --- guarantee circles: cycles of 3-5 and mutual pairs, across villages, partly organisations
        n_circ = max(1, round(n / 2500))
        c_size = np.concatenate([rng.integers(3, 6, n_circ), np.full(n_circ, 2)])
        n_c = len(c_size)
        orgs = rng.permutation(np.flatnonzero(self.e_kind != 1))  # cooperatives are members' vehicles
        n_org = rng.integers(0, c_size + 1)
        n_org = np.where(np.cumsum(n_org) <= len(orgs), n_org, 0)
        org_m = self.E0 + orgs[: int(n_org.sum())]
        hh_m = self._free(rng, int((c_size - n_org).sum()))
        grp = np.concatenate([np.repeat(np.arange(n_c), n_org), np.repeat(np.arange(n_c), c_size - n_org)])
        order = np.argsort(grp, kind="stable")
        members, grp = np.concatenate([org_m, hh_m])[order], grp[order]
        start = np.cumsum(c_size) - c_size
        pos = np.arange(len(grp)) - start[grp]
        is_org = members >= self.E0
        self.circ = {"members": members, "group": grp, "prev": start[grp] + (pos - 1) % c_size[grp],
                     "mutual": c_size[grp] == 2}
        issue0 = A - _days(rng.integers(180, 3 * 365, n_c))  # members borrow within 120 days of each other
        m = len(members)
        parts["circ"] = self._loans_for(
            members, product=_P["guaranteed"], purpose=np.where(is_org, _U["processing"], _U["trade"]),
            amount=np.round(np.where(is_org, rng.uniform(200, 1000, m), rng.uniform(80, 200, m))) * 1000,
            issue=issue0[grp] + _days(rng.integers(0, 120, m)))
        parts["circ"]["risk"] = parts["circ"]["risk"] + 0.8  # contagion along the circle

        # --- re-lending: the funds go on to many individuals within 30 days
        n_rel = max(2, round(n / 800))
        rel = self._free(rng, n_rel)
        self.rel = {"borrowers": rel}
        parts["rel"] = self._loans_for(
            rel, product=_P["micro_credit"],
            purpose=np.array([_U["planting"], _U["livestock"], _U["trade"]])[rng.integers(0, 3, n_rel)],
            amount=np.round(rng.uniform(50, 200, n_rel)) * 1000, issue=A - _days(rng.integers(60, 700, n_rel)),
            usage=1)

        # --- diverted funds: planting / livestock loans paid to real estate or finance; a few officers
        # (one per group, in the group's township) issue them
        n_div = max(2, round(n / 600))
        n_grp = max(1, n_div // 3)
        per = np.full(n_grp, n_div // n_grp)
        per[: n_div % n_grp] += 1
        t_first = np.searchsorted(self.v_town, np.arange(self.n_t))
        t_lo = self.v_start[t_first]
        t_hi = np.r_[t_lo[1:], n]
        towns = rng.integers(0, self.n_t, n_grp)
        div, dgrp, doff = [], [], []
        for g in range(n_grp):  # one iteration per officer group (households / 1800)
            pick = self._free_in(rng, int(t_lo[towns[g]]), int(t_hi[towns[g]]), int(per[g]))
            div.append(pick)
            dgrp.append(np.full(len(pick), g))
            doff.append(np.full(len(pick), self.officers(np.array([_RCC]), towns[g:g + 1], rng)[0]))
        div_b = np.concatenate(div)
        self.div = {"borrowers": div_b, "group": np.concatenate(dgrp), "officer": np.concatenate(doff)}
        m = len(div_b)
        parts["div"] = self._loans_for(
            div_b, product=_P["micro_credit"], purpose=np.where(rng.random(m) < 0.7, _U["planting"], _U["livestock"]),
            amount=np.round(rng.uniform(50, 300, m)) * 1000, inst=_RCC, officer=self.div["officer"],
            issue=A - _days(rng.integers(30, 900, m)), usage=2)

        # --- malicious evaders: long overdue although their deposits could repay
        n_ev = max(2, round(n / 500))
        ev = self._free(rng, n_ev)
        k0 = rng.integers(1, 3, n_ev)
        first_due = A - _days(rng.integers(200, 560, n_ev))
        self.ev = {"borrowers": ev}
        parts["ev"] = self._loans_for(
            ev, product=_P["micro_credit"], purpose=_U["trade"], amount=np.round(rng.uniform(60, 200, n_ev)) * 1000,
            issue=_add_months(first_due, -3 * (k0 + 1)), term=24, freq=3, default_from=k0, late_p=0.0,
            cure_after=-1, prepay=False)

        # --- illegal-fundraising cooperatives: no loans of their own
        coops = np.flatnonzero(self.e_kind == 1)
        without_loans = coops[~np.isin(self.E0 + coops, self.base_borrowers)]  # a dormant account
        pool = without_loans if len(without_loans) else coops
        fr = np.sort(rng.choice(pool, size=min(max(1, round(n / 20000)), len(pool)), replace=False))
        self.e_fundraising[fr] = True
        self.fr = fr
        # a fundraising cooperative has only a handful of real members (its first few member rows)
        is_mem = (self.r_role == 5) & self.e_fundraising[self.r_ent]
        rank = np.zeros(len(self.r_role), np.int64)
        idx = np.flatnonzero(is_mem)
        ent_of = self.r_ent[idx]
        o = np.argsort(ent_of, kind="stable")
        first = np.r_[True, ent_of[o][1:] != ent_of[o][:-1]] if len(idx) else np.zeros(0, bool)
        g = np.cumsum(first) - 1
        rank[idx[o]] = np.arange(len(idx)) - np.flatnonzero(first)[g]
        self.role_keep = ~is_mem | (rank < _FUNDRAISER_MEMBERS)

        rng_t = self.rng("pattern-terms")
        return {k: self._terms(p, rng_t) for k, p in parts.items()}

    def all_loans(self) -> None:
        base = self.base_loans()
        self.base_borrowers = base["borrower"]
        pat = self.pattern_loans()
        joint = self._joint_groups()
        blocks = {"base": base, **pat, "joint": joint}
        keys = list(base)
        self.part_first: dict[str, int] = {}
        at = 0
        for name, b in blocks.items():
            self.part_first[name] = at
            at += len(b["borrower"])
        d = {k: np.concatenate([b[k] for b in blocks.values()]) for k in keys}
        self.engine(d)
        self.loan_ids = _numbered(f"L{self.county}-", len(d["borrower"]), 8)

    def _part(self, name: str) -> np.ndarray:
        """Indices (into all loans) of the loans of one block: base, imp, circ, rel, div, ev, joint."""
        names = list(self.part_first)
        end = self.part_first[names[names.index(name) + 1]] if name != names[-1] else len(self.loans["borrower"])
        return np.arange(self.part_first[name], end)

    # ---------------------------------------------------------------- guarantees
    def _joint_groups(self) -> dict[str, np.ndarray]:
        """Joint-liability groups (联保小组): consecutive households in non-overlapping blocks of five."""
        rng = self.rng("joint-groups")
        A = self.A
        room = self.v_size[self.h_village] - self.h_pos
        start = np.flatnonzero((self.h_pos % 5 == 0) & (room >= 3) & (rng.random(self.n) < 0.05))
        size = np.minimum(rng.integers(3, 6, len(start)), room[start])
        g, pos = _segments(size)
        clean = np.bincount(g, weights=self.taken[start[g] + pos], minlength=len(start)) == 0
        start, size = start[clean], size[clean]
        g, pos = _segments(size)
        member = start[g] + pos
        ng = len(start)
        issue = A - _days(rng.integers(1, 4 * 365, ng))
        town = self.v_town[self.h_village[start]]
        officer = self.officers(np.zeros(ng, np.int64), town, rng)
        m = len(member)
        self.joint_group, self.joint_member = g, member
        jd = self._loans_for(member, product=_P["guaranteed"],
                             purpose=np.where(rng.random(m) < 0.6, _U["planting"], _U["livestock"]),
                             amount=np.round(rng.uniform(20, 60, m)) * 1000.0, issue=issue[g], inst=_RCC,
                             officer=officer[g], term=24, freq=3)
        return self._terms(jd, rng)

    def guarantees(self) -> None:
        rng = self.rng("guarantees")
        d = self.loans
        L = len(d["borrower"])
        gl, gg = [], []  # loan, guarantor subject
        # joint-liability groups: every member guarantees every other member's loan
        jl = self._part("joint")
        g = self.joint_group
        size = np.bincount(g)
        first = np.cumsum(size) - size
        for off in range(1, 5):  # the k-th other member, for groups of more than k
            has = size[g] > off
            rows = np.flatnonzero(has)
            other = first[g[rows]] + (rows - first[g[rows]] + off) % size[g[rows]]
            gl.append(jl[rows])
            gg.append(self.joint_member[other])
        # ordinary guaranteed household loans: one or two later households of the same village (a DAG)
        base = self._part("base")
        hh_loan = base[(d["borrower"][base] < self.E0) & (d["product"][base] == _P["guaranteed"])]
        for _ in range(2):  # a second guarantor for about 30%
            bb = d["borrower"][hh_loan]
            later = self.v_size[self.h_village[bb]] - self.h_pos[bb] - 1
            has = later > 0
            guar = bb[has] + 1 + (rng.random(int(has.sum())) * later[has]).astype(np.int64)
            ok = ~self.taken[guar] & ~self.taken[bb[has]]
            gl.append(hh_loan[has][ok])
            gg.append(guar[ok])
            hh_loan = hh_loan[rng.random(len(hh_loan)) < 0.3]
        # organisations' loans: often guaranteed by their legal representative / operator (a person)
        org = base[(d["borrower"][base] >= self.E0) & (d["borrower"][base] < self.P0)]
        org = org[rng.random(len(org)) < 0.5]
        gl.append(org)
        gg.append(self.P0 + self.e_rep[d["borrower"][org] - self.E0])
        # impersonation: the real user guarantees every borrower; circles: the previous member guarantees
        gl.append(self._part("imp"))
        gg.append(self.imp["real"][self.imp["group"]])
        circ = self._part("circ")
        gl.append(circ)
        gg.append(self.circ["members"][self.circ["prev"]])
        loan = np.concatenate(gl).astype(np.int64)
        guar = np.concatenate(gg).astype(np.int64)
        _, first_seen = np.unique(loan * (len(self.all_ids) + 1) + guar, return_index=True)
        first_seen.sort()
        loan, guar = loan[first_seen], guar[first_seen]
        # a "guaranteed" loan that found no guarantor is a credit loan (信用贷款)
        has_g = np.bincount(loan, minlength=L) > 0
        d["product"] = np.where((d["product"] == _P["guaranteed"]) & ~has_g, _P["micro_credit"], d["product"])
        self.g_loan, self.g_guar = loan, guar
        share = np.where(rng.random(len(loan)) < 0.8, 1.0, rng.uniform(0.5, 1.0, len(loan)))
        self.g_amount = np.round(d["amount"][loan] * share, 2)
        self.guarantee_ids = _numbered(f"G{self.county}-", len(loan), 7)

    # ---------------------------------------------------------------- transactions
    def transactions(self) -> None:
        rng = self.rng("transactions")
        A = self.A
        d = self.loans
        L = len(d["borrower"])
        # counterparty names are codes: >= 0 into a small vocabulary, < 0 a person (-1 - person index)
        vocab: list[str] = []
        index: dict[str, int] = {}

        def name(text: str) -> int:
            if text not in index:
                index[text] = len(vocab)
                vocab.append(text)
            return index[text]

        inst_codes = np.array([name(x[1].format(c=self.county_short)) for x in _INSTITUTIONS])
        payee_codes = {ind: np.array([name(self.county_short + o) for o in opts]) for ind, opts in _PAYEES.items()}
        self.cp_name = name
        cols: dict[str, list[np.ndarray]] = {k: [] for k in ("subj", "date", "amt", "dir", "cp", "cpname", "ind",
                                                             "loan", "tag")}

        def add(subj: Any, date: Any, amt: Any, direction: Any, cp: Any, cpname: Any, ind: Any, loan: Any,
                tag: Any = -1) -> None:
            m = len(np.atleast_1d(subj))
            for key, val in (("subj", subj), ("date", date), ("amt", amt), ("dir", direction), ("cp", cp),
                             ("cpname", cpname), ("ind", ind), ("loan", loan), ("tag", tag)):
                a = np.asarray(val)
                cols[key].append(a if a.shape == (m,) else np.broadcast_to(a, (m,)))

        def payee(industry: np.ndarray) -> np.ndarray:
            out = np.zeros(len(industry), dtype=np.int64)
            for ind_name, codes in payee_codes.items():
                sel = industry == _I[ind_name]
                out[sel] = codes[rng.integers(0, len(codes), int(sel.sum()))]
            return out

        self.payee, self.inst_codes, self.add_txn = payee, inst_codes, add
        # disbursements: every loan's funds arrive on its issue date
        loan_idx = np.arange(L)
        add(d["borrower"], d["issue"], d["amount"], 1, -1, inst_codes[d["inst"]], _I["finance"], loan_idx)
        # ordinary use of funds: one or two payments within 20 days, to the purpose's industry
        ordinary = loan_idx[d["usage"] == 0]
        two = rng.random(len(ordinary)) < 0.5
        first_frac = np.where(two, rng.uniform(0.3, 0.6, len(ordinary)), rng.uniform(0.6, 1.0, len(ordinary)))
        for sel, frac in ((ordinary, first_frac), (ordinary[two], rng.uniform(0.3, 0.4, int(two.sum())))):
            date = np.minimum(d["issue"][sel] + _days(rng.integers(0, 21, len(sel))), A)
            ind = _PURPOSE_INDUSTRY[d["purpose"][sel]]
            add(d["borrower"][sel], date, np.round(d["amount"][sel] * frac, 2), 0, -1, payee(ind), ind, sel)
        # regular account flows of households (last 12 months): sales, wages, purchases
        n = self.n
        hh, _ = _segments(rng.poisson(3, n))
        m = len(hh)
        direction = (rng.random(m) < 0.5).astype(np.int64)
        ind = np.where(direction == 1, _choice(rng, np.array([_I["agriculture"], _I["construction"],
                                                              _I["services"]]), [0.6, 0.2, 0.2], m),
                       _choice(rng, np.array([_I["trade"], _I["agriculture"], _I["services"]]), [0.5, 0.3, 0.2], m))
        amt = np.round(self.h_income[hh] / 6 * np.exp(rng.normal(0, 0.6, m)), 2) + 1.0
        add(hh, A - _days(rng.integers(0, 365, m)), amt, direction, -1, payee(ind), ind, -1)
        # occasional transfers to relatives (individuals of other households, no loan involved)
        tr = np.flatnonzero(rng.random(n) < 0.05)
        other = rng.integers(0, n, len(tr))
        tr, other = tr[other != tr], other[other != tr]
        head = self.h_head_person[other]
        add(tr, A - _days(rng.integers(0, 730, len(tr))), np.round(rng.uniform(500, 8000, len(tr)), 2), 0,
            self.P0 + head, -1 - head, _I["individual"], -1)
        # organisations: sales and purchases; cooperatives also receive members' share capital
        e = self.n_e
        eo, _ = _segments(np.where(self.e_fundraising, 0, rng.poisson(8, e)))
        m = len(eo)
        direction = (rng.random(m) < 0.55).astype(np.int64)
        ind = _choice(rng, np.array([_I["trade"], _I["processing"], _I["agriculture"]]), [0.4, 0.3, 0.3], m)
        amt = np.round(self.e_revenue[eo] / 10 * np.exp(rng.normal(0, 0.7, m)), 2) + 1.0
        add(self.E0 + eo, A - _days(rng.integers(0, 365, m)), amt, direction, -1, payee(ind), ind, -1)
        mem = (rng.random(len(self.coop_member_hh)) < 0.5) & ~self.e_fundraising[self.coop_member_of]
        mh, mc = self.coop_member_hh[mem], self.coop_member_of[mem]
        head = self.h_head_person[mh]
        when = np.maximum(A - _days(rng.integers(1, 1500, len(mh))), self.e_reg[mc])
        add(self.E0 + mc, when, np.round(rng.uniform(1000, 20000, len(mh)), -2), 1, self.P0 + head, -1 - head,
            _I["individual"], -1)
        self._pattern_transactions(rng)
        # assemble, sort by account and date, number
        arr = {k: np.concatenate(v) for k, v in cols.items()}
        arr["date"] = np.minimum(arr["date"].astype("datetime64[D]"), A)
        order = np.lexsort((arr["date"], arr["subj"]))
        self.txn = {k: v[order] for k, v in arr.items()}
        self.cp_vocab = vocab
        self.txn_ids = _numbered(f"T{self.county}-", len(order), 9)

    def _pattern_transactions(self, rng: np.random.Generator) -> None:
        A, d, rep, add = self.A, self.loans, self.rep, self.add_txn
        names = self.h_head_person  # households' counterparty names are their heads' names
        # impersonation: the borrower passes the funds to the real user within three days; the real user
        # pays the instalments (interest paid centrally)
        ln = self._part("imp")
        b = self.imp["borrowers"]
        real = self.imp["real"][self.imp["group"]]
        date = np.minimum(d["issue"][ln] + _days(rng.integers(0, 4, len(ln))), A)
        amt = np.round(d["amount"][ln] * rng.uniform(0.9, 1.0, len(ln)), 2)
        add(b, date, amt, 0, real, -1 - names[real], _I["individual"], ln, 1)
        add(real, date, amt, 1, b, -1 - names[b], _I["individual"], ln, 1)
        g, k = _segments(d["n"][ln])
        rows = self.rep_start[ln][g] + k
        paid = ~np.isnat(rep["paid"][rows])
        rows, payer = rows[paid], real[g][paid]
        add(payer, rep["paid"][rows], rep["due_amount"][rows], 0, -1, self.inst_codes[d["inst"][rep["loan"][rows]]],
            _I["finance"], rep["loan"][rows], 1)
        # re-lending: 5-15 individuals within 30 days, then small monthly interest back
        ln = self._part("rel")
        b = self.rel["borrowers"]
        nr = len(b)
        k = rng.integers(5, 16, nr)
        offs = np.sort(rng.integers(1, self.n, (nr, 15)), axis=1)
        distinct = np.concatenate([np.ones((nr, 1), bool), offs[:, 1:] != offs[:, :-1]], axis=1)
        keep = (np.arange(15)[None, :] < k[:, None]) & distinct
        row, col = np.nonzero(keep)
        recip = self.h_head_person[(b[row] + offs[row, col]) % self.n]
        w = rng.dirichlet(np.ones(15), nr) * keep
        w = (w / w.sum(axis=1, keepdims=True))[row, col]
        amount = np.round(w * d["amount"][ln][row] * rng.uniform(0.7, 0.95, nr)[row], 2) + 0.01
        date = np.minimum(d["issue"][ln][row] + _days(rng.integers(1, 30, len(row))), A)
        add(b[row], date, amount, 0, self.P0 + recip, -1 - recip, _I["individual"], ln[row], 2)
        months = np.clip((A - d["issue"][ln]).astype(np.int64) // 30 - 1, 0, 6)[row]
        r2, mth = _segments(months)
        add(b[row][r2], np.minimum(d["issue"][ln][row][r2] + _days(30 * (mth + 1) + 15), A),
            np.round(amount[r2] * 0.02, 2) + 0.01, 1, self.P0 + recip[r2], -1 - recip[r2], _I["individual"], -1, 2)
        # diverted funds: paid to real estate or finance within ten days
        ln = self._part("div")
        nd = len(ln)
        ind = np.where(rng.random(nd) < 0.5, _I["real_estate"], _I["finance"])
        names_d = np.where(ind == _I["real_estate"], self.cp_name(self.county_short + "鑫源房地产开发有限公司"),
                           self.cp_name("昆明恒通投资管理有限公司"))
        add(self.div["borrowers"], np.minimum(d["issue"][ln] + _days(rng.integers(0, 10, nd)), A),
            np.round(d["amount"][ln] * rng.uniform(0.8, 1.0, nd), 2), 0, -1, names_d, ind, ln, 3)
        # malicious evaders: move money to relatives after the arrears begin
        ln = self._part("ev")
        ev = self.ev["borrowers"]
        ne = len(ev)
        relative = self.h_spouse_person[ev]
        relative = np.where(relative >= 0, relative, self.h_head_person[rng.integers(0, self.n, ne)])
        when = np.minimum(d["df_due"][ln] + _days(rng.integers(10, 120, ne)), A)
        add(ev, when, np.round(d["amount"][ln] * rng.uniform(0.3, 0.8, ne), 2), 0, self.P0 + relative,
            -1 - relative, _I["individual"], -1, 4)
        # illegal fundraising: many small deposits from non-members in the last six months, concentrated out
        self.fr_depositors = []
        wealth = self.cp_name(self.county_short + "鼎盛财富管理有限公司")
        estate = self.cp_name(self.county_short + "金泰置业有限公司")
        for c in self.fr:  # one iteration per fundraising cooperative (households / 20000)
            members = np.zeros(self.n, dtype=bool)
            members[self.coop_member_hh[self.coop_member_of == c]] = True
            cand = np.flatnonzero(~members)
            dep = rng.choice(cand, size=min(int(np.clip(self.n // 10, 40, 400)), len(cand)), replace=False)
            persons = self.h_head_person[dep]
            amt = np.round(np.clip(np.exp(rng.normal(np.log(12000), 0.8, len(dep))), 2000, 200000), -2)
            dates = A - _days(rng.integers(1, 180, len(dep)))
            subj = np.full(len(dep), self.E0 + c)
            add(subj, dates, amt, 1, self.P0 + persons, -1 - persons, _I["individual"], -1, 5)
            rep_p = self.e_rep[c]
            add(np.full(3, self.E0 + c), A - _days(rng.integers(1, 60, 3)),
                np.round(float(amt.sum()) * np.array([0.4, 0.3, 0.2]), 2), 0, np.array([self.P0 + rep_p, -1, -1]),
                np.array([-1 - rep_p, wealth, estate]), np.array([_I["individual"], _I["finance"], _I["real_estate"]]),
                -1, 5)
            early = rng.choice(len(dep), size=max(1, len(dep) // 5), replace=False)
            add(subj[early], np.minimum(dates[early] + _days(30), A), np.round(amt[early] * 0.015, 2), 0,
                self.P0 + persons[early], -1 - persons[early], _I["individual"], -1, 5)
            self.fr_depositors.append(persons)

    # ---------------------------------------------------------------- contacts
    def contacts(self) -> None:
        rng = self.rng("contacts")
        A = self.A
        n, e = self.n, self.n_e
        prefixes = _pa(np.array(["139", "138", "137", "136", "135", "150", "151", "152", "157", "158", "159", "187",
                                 "188", "182", "183", "130", "131", "132", "155", "156", "185", "186", "133", "153",
                                 "180", "189", "177", "199"]))
        a = int(rng.integers(1, 10**7)) * 10 + int(rng.choice([1, 3, 7, 9]))
        b = int(rng.integers(0, 10**8))

        def phones(idx: np.ndarray) -> pa.Array:  # unique: the suffix alone is an affine bijection mod 10**8
            return _pa_join(_take(prefixes, (idx * 7 + b) % len(prefixes)), _pa_int((a * idx + b) % 10**8, 8))

        da = int(rng.integers(1, 16**11)) * 2 + 1
        db = int(rng.integers(0, 16**11))

        def devices(idx: np.ndarray) -> pa.Array:  # unique: an odd multiplier is a bijection modulo 16**12
            v = (da * idx + db) % 16**12
            digits = np.stack([(v >> (4 * k)) & 15 for k in range(11, -1, -1)], axis=1)
            return _pa_join("dev-", _pa(_join_chars("0123456789abcdef", digits)))

        village = self.h_village
        prefix = _pa(_cat("云南省昆明市", self.county_name, self.t_names[self.v_town], self.v_names))
        self.h_addr = _pa_join(_take(prefix, village), _pa_int(self.h_pos // 40 + 1), "组",
                               _pa_int(self.h_pos % 40 + 1), "号")
        self.h_phone = phones(np.arange(n))
        since = np.where(self.h_archived, self.h_archived_date, self.h_survey - _days(rng.integers(0, 2000, n)))
        subj, kind, value, vf, vt = [], [], [], [], []

        def add(s: Any, k: int, v: pa.Array, f: Any, t: Any) -> None:
            m = len(v)
            for lst, val in ((subj, s), (kind, k), (vf, f), (vt, t)):
                arr = np.asarray(val)
                lst.append(arr if arr.shape == (m,) else np.broadcast_to(arr, (m,)))
            value.append(v)

        nat = np.datetime64("NaT")
        # households: current phone and address; some changed phone; many have a device
        changed = np.flatnonzero(rng.random(n) < 0.2)
        old_from = since - _days(rng.integers(200, 2000, n))
        add(changed, 0, phones(n + changed), old_from[changed], since[changed])
        add(np.arange(n), 0, self.h_phone, since, nat)
        add(np.arange(n), 1, self.h_addr, np.minimum(since, self.h_survey), nat)
        dev = np.flatnonzero(rng.random(n) < 0.65)
        add(dev, 2, devices(dev), A - _days(rng.integers(0, 1500, len(dev))), nat)
        # organisations: own phone; family farms and individual businesses share the operator's address
        eo = np.arange(e)
        add(self.E0 + eo, 0, phones(2 * n + eo), self.e_reg, nat)
        own = _pa(_cat(_texts(prefix, self.e_village), np.array(["", "合作社办公楼", "工业园区", ""])[self.e_kind]))
        at_home = (self.e_kind == 0) | (self.e_kind == 3)
        e_addr = pc.if_else(pa.array(at_home), _take(self.h_addr, self.e_hh), own)
        add(self.E0 + eo, 1, e_addr, self.e_reg, nat)
        # professional managers: own phone
        add(self.P0 + self.pm, 0, phones(2 * n + e + np.arange(len(self.pm))),
            A - _days(rng.integers(100, 3000, len(self.pm))), nat)
        # impersonation: each borrower's record gets the real user's phone (and address) just before the loan
        b = self.imp["borrowers"]
        real = self.imp["real"][self.imp["group"]]
        when = self.loans["issue"][self._part("imp")] - _days(rng.integers(3, 20, len(b)))
        add(b, 0, _take(self.h_phone, real), when, nat)
        shared = self.imp["shared_address"][self.imp["group"]]
        add(b[shared], 1, _take(self.h_addr, real[shared]), when[shared], nat)
        self.c = {"subj": np.concatenate(subj), "kind": np.concatenate(kind), "value": pa.concat_arrays(value),
                  "from": np.concatenate(vf).astype("datetime64[D]"), "to": np.concatenate(vt).astype("datetime64[D]")}

    # ---------------------------------------------------------------- subsidies
    def subsidies(self) -> None:
        rng = self.rng("subsidies")
        A = self.A
        n = self.n
        year = int(str(A.astype("datetime64[Y]")))
        programs = ["arable_land_protection", "machinery_purchase", "livestock_breeding",
                    *_SUBSIDY_PROGRAMS["enterprise"]]
        subj, prog, amt, app = [], [], [], []
        # arable-land protection subsidy (耕地地力保护补贴): every spring, per mu
        for y in (year - 1, year):
            has = np.flatnonzero((self.h_land > 0) & (rng.random(n) < 0.95))
            date = np.datetime64(f"{y}-03-01") + _days(rng.integers(0, 60, len(has)))
            ok = date <= A
            subj.append(has[ok])
            prog.append(np.zeros(int(ok.sum()), np.int64))
            amt.append(np.round(self.h_land[has[ok]] * rng.uniform(95, 125, int(ok.sum())), 2))
            app.append(date[ok])
        mach = np.flatnonzero((self.h_machinery > 0) & (rng.random(n) < 0.12))
        subj.append(mach)
        prog.append(np.full(len(mach), 1))
        amt.append(np.round(self.h_machinery[mach] * 0.3, -1) + 10)
        app.append(A - _days(rng.integers(1, 1000, len(mach))))
        stock = np.flatnonzero((self.h_livestock >= 3) & (rng.random(n) < 0.15))
        subj.append(stock)
        prog.append(np.full(len(stock), 2))
        amt.append(np.round(self.h_livestock[stock] * 500, -1) + 10)
        app.append(A - _days(rng.integers(1, 1000, len(stock))))
        ent = np.flatnonzero(rng.random(self.n_e) < 0.35)
        subj.append(self.E0 + ent)
        prog.append(3 + self.e_kind[ent])
        amt.append(np.round(rng.uniform(2e4, 3e5, len(ent)), -2))
        app.append(np.maximum(A - _days(rng.integers(1, 1000, len(ent))), self.e_reg[ent]))
        # malicious evaders keep applying
        ev = self.ev["borrowers"]
        subj.append(ev)
        prog.append(np.full(len(ev), 1))
        amt.append(np.round(rng.uniform(5e3, 3e4, len(ev)), -1))
        app.append(A - _days(rng.integers(1, 20, len(ev))))
        s = {"subj": np.concatenate(subj), "prog": np.concatenate(prog), "amt": np.concatenate(amt),
             "app": np.concatenate(app).astype("datetime64[D]")}
        m = len(s["subj"])
        dec = s["app"] + _days(rng.integers(20, 90, m))
        decided = dec <= A
        u = rng.random(m)
        s["dec"] = np.where(decided, dec, np.datetime64("NaT"))
        s["status"] = np.where(~decided, 0, np.where(u < 0.95, 1, np.where(u < 0.99, 2, 3)))
        self.s = s
        self.subsidy_programs = programs
        self.subsidy_ids = _numbered(f"S{self.county}-", m, 8)

    # ---------------------------------------------------------------- credit report, truth
    def credit_history(self) -> None:
        rng = self.rng("credit")
        A, n = self.A, self.n
        d = self.loans
        hh_loans = d["borrower"] < self.E0
        bad = np.full(n, np.iinfo(np.int64).min)
        sel = hh_loans & ~np.isnat(d["bad_date"])
        np.maximum.at(bad, d["borrower"][sel], d["bad_date"][sel].astype(np.int64))
        has_bad = bad > np.iinfo(np.int64).min
        # negatives reported by banks outside these data
        other = ~has_bad & (rng.random(n) < _sigmoid(-4.6 + 0.9 * self.h_risk))
        other_date = A - _days(rng.integers(30, 5 * 365, n))
        bad_date = np.where(has_bad, bad.astype("datetime64[D]"), np.where(other, other_date, np.datetime64("NaT")))
        recent = ~np.isnat(bad_date) & (bad_date >= A - _days(5 * 365)) & (bad_date <= A)
        any_loan = np.bincount(d["borrower"][hh_loans], minlength=n) > 0
        older = rng.random(n) < 0.3
        self.h_report = np.where(recent, 2, np.where(any_loan | older, 0, 1))  # normal, none, bad
        self.h_bad_date = np.where(self.h_report == 2, bad_date, np.datetime64("NaT"))  # kept five years
        # malicious evaders: deposits, house and vehicle enough to repay
        ev = self.ev["borrowers"]
        bal = d["balance"][self._part("ev")]
        self.h_deposits[ev] = np.round(np.maximum(self.h_deposits[ev], bal * rng.uniform(1.5, 3.0, len(ev))), -1)
        self.h_house_value[ev] = np.maximum(self.h_house_value[ev], 300000.0)
        self.h_vehicle[ev] = np.maximum(self.h_vehicle[ev], 80000.0)

    def truth_defaults(self) -> pd.DataFrame:
        rng = self.rng("defaults")
        d = self.loans
        S = len(self.all_ids)
        open_ = ~d["closed"]
        max_od = np.zeros(S, np.int64)
        np.maximum.at(max_od, d["borrower"][open_], d["overdue"][open_])
        bal = np.bincount(d["borrower"][open_], weights=d["balance"][open_], minlength=S)
        has_open = np.bincount(d["borrower"][open_], minlength=S) > 0
        # a loan already in arrears tends to stay there (continuation), new defaults come from the latent risk
        p_cont = np.select([max_od > 90, max_od > 30, max_od > 0], [0.9, 0.55, 0.25], 0.0)
        h = np.arange(self.n)
        burden = np.log1p(bal[h] / self.h_income)
        h_logit = self.h_risk + 0.35 * _std(burden) + 0.6 * (self.h_report == 2)
        c = _calibrate(h_logit, _TARGET_DEFAULT_RATE, p_cont[h])
        # organisations and managers share the intercept (one latent process)
        e = np.arange(self.n_e)
        e_logit = self.e_risk + 0.3 * _std(np.log1p(bal[self.E0 + e] / np.maximum(self.e_revenue, 1.0)))
        pm = self.pm
        logit = np.concatenate([h_logit, e_logit, self.h_risk[self.p_hh[pm]]])
        subj = np.concatenate([h, self.E0 + e, self.P0 + pm])
        p_new = _sigmoid(c + logit)
        pd_true = 1.0 - (1.0 - p_new) * (1.0 - p_cont[subj])
        outcome = rng.random(len(subj)) < pd_true
        types = np.concatenate([np.zeros(self.n, np.int64), 1 + self.e_kind, np.full(len(pm), 5)])
        return pd.DataFrame({"subject_id": _ser(_take(self.all_ids, subj)),
                             "subject_type": _cats(["household", *schema.ENTERPRISE_KINDS, "professional_manager"],
                                                   types),
                             "default_12m": outcome, "pd_true": np.round(pd_true, 6), "open_loan": has_open[subj]})

    def truth_patterns(self) -> pd.DataFrame:
        rows: list[tuple[str, str, pa.Array, np.ndarray, str]] = []
        ids_, loans, txns = self.all_ids, self.loan_ids, self.txn_ids
        t = self.txn

        def label(pattern: str, kind: str, values: pa.Array, group: np.ndarray, role: str) -> None:
            rows.append((pattern, kind, values, np.broadcast_to(np.asarray(group, dtype=str), (len(values),)), role))

        def gid(prefix: str, g: np.ndarray) -> np.ndarray:
            return _cat(prefix, np.strings.zfill((np.asarray(g) + 1).astype(str), 3))

        # impersonation
        imp, ln = self.imp, self._part("imp")
        gi = gid("IMP-", imp["group"])
        label("impersonated_loan", "household", _take(ids_, imp["borrowers"]), gi, "borrower")
        g_all = np.arange(len(imp["real"]))
        label("impersonated_loan", "household", _take(ids_, imp["real"]), gid("IMP-", g_all), "real_user")
        label("impersonated_loan", "loan", _take(loans, ln), gi, "loan")
        first = np.r_[True, imp["group"][1:] != imp["group"][:-1]]
        label("impersonated_loan", "officer", _pa(self.officer_vocab[imp["officer"][first]]), gid("IMP-", g_all),
              "officer")
        label("impersonated_loan", "contact", _take(self.h_phone, imp["real"]), gid("IMP-", g_all), "shared_phone")
        sa = g_all[imp["shared_address"]]
        label("impersonated_loan", "contact", _take(self.h_addr, imp["real"][sa]), gid("IMP-", sa),
              "shared_address")
        # guarantee circles
        circ, ln = self.circ, self._part("circ")
        gc = gid("GC-", circ["group"])
        role = np.where(circ["mutual"], "mutual_pair", "cycle")
        for is_org, kind in ((False, "household"), (True, "enterprise")):
            for r in ("cycle", "mutual_pair"):
                sel = ((circ["members"] >= self.E0) == is_org) & (role == r)
                label("guarantee_circle", kind, _take(ids_, circ["members"][sel]), gc[sel], r)
        label("guarantee_circle", "loan", _take(loans, ln), gc, "loan")
        edge = np.flatnonzero((self.g_loan >= ln[0]) & (self.g_loan <= ln[-1])) if len(ln) else np.zeros(0, int)
        label("guarantee_circle", "guarantee", _take(self.guarantee_ids, edge), gc[self.g_loan[edge] - ln[0]], "edge")
        # re-lending
        ln = self._part("rel")
        gr = gid("RL-", np.arange(len(ln)))
        label("relending", "household", _take(ids_, self.rel["borrowers"]), gr, "relender")
        label("relending", "loan", _take(loans, ln), gr, "loan")
        out = np.flatnonzero((t["tag"] == 2) & (t["loan"] >= 0))
        label("relending", "transaction", _take(txns, out), gr[t["loan"][out] - ln[0]], "loan_payment")
        label("relending", "person", _take(ids_, t["cp"][out]), gr[t["loan"][out] - ln[0]], "recipient")
        # diverted funds: groups are the officers who issued them
        ln = self._part("div")
        gd = gid("DV-", self.div["group"])
        label("diverted_funds", "household", _take(ids_, self.div["borrowers"]), gd, "borrower")
        label("diverted_funds", "loan", _take(loans, ln), gd, "loan")
        first = np.r_[True, self.div["group"][1:] != self.div["group"][:-1]]
        label("diverted_funds", "officer", _pa(self.officer_vocab[self.div["officer"][first]]),
              gid("DV-", self.div["group"][first]), "officer")
        pay = np.flatnonzero(t["tag"] == 3)
        label("diverted_funds", "transaction", _take(txns, pay), gd[t["loan"][pay] - ln[0]], "loan_payment")
        # malicious evaders
        ln = self._part("ev")
        ev = self.ev["borrowers"]
        ge = gid("EV-", np.arange(len(ev)))
        label("malicious_evader", "household", _take(ids_, ev), ge, "evader")
        label("malicious_evader", "loan", _take(loans, ln), ge, "loan")
        moved = np.flatnonzero(t["tag"] == 4)
        order = np.argsort(ev)
        which = order[np.searchsorted(ev, t["subj"][moved], sorter=order)]
        label("malicious_evader", "transaction", _take(txns, moved), ge[which], "asset_transfer")
        # illegal fundraising
        for i, c in enumerate(self.fr):
            g = f"FR-{i + 1:03d}"
            label("illegal_fundraising", "enterprise", _take(ids_, [self.E0 + c]), g, "fundraiser")
            label("illegal_fundraising", "person", _take(ids_, [self.P0 + self.e_rep[c]]), g, "controller")
            label("illegal_fundraising", "person", _take(ids_, self.P0 + self.fr_depositors[i]), g, "depositor")
            flows = np.flatnonzero((t["tag"] == 5) & (t["subj"] == self.E0 + c))
            label("illegal_fundraising", "transaction", _take(txns, flows), g, "flow")
        lengths = [len(r[2]) for r in rows]
        frame = pd.DataFrame({
            "pattern": _ser(np.repeat([r[0] for r in rows], lengths)),
            "entity_kind": _ser(np.repeat([r[1] for r in rows], lengths)),
            "entity_id": _ser(pa.concat_arrays([r[2].cast(pa.string()) for r in rows])),
            "group_id": _ser(np.concatenate([r[3] for r in rows])),
            "role": _ser(np.repeat([r[4] for r in rows], lengths))})
        return frame.drop_duplicates(ignore_index=True)

    def truth_groups(self) -> pd.DataFrame:
        return pd.DataFrame({
            "group_id": _ser(_take(_numbered("JG-", int(self.joint_group.max(initial=-1)) + 1, 5), self.joint_group)),
            "subject_id": _ser(_take(self.all_ids, self.joint_member)),
            "loan_id": _ser(_take(self.loan_ids, self._part("joint")))})

    # ---------------------------------------------------------------- frames
    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables, largest first; each working array is released once its table is built (memory)."""
        A = self.A
        out: dict[str, pd.DataFrame] = {}

        def sid(idx: Any) -> pd.Series:
            return _ser(_take(self.all_ids, idx))

        def lid(idx: Any) -> pd.Series:
            return _ser(_take(self.loan_ids, idx))

        r = self.__dict__.pop("rep")
        out["repayments"] = pd.DataFrame({
            "loan_id": lid(r.pop("loan")), "instalment": r.pop("k") + 1, "due_date": _dt(r.pop("due")),
            "due_amount": r.pop("due_amount"), "paid_date": _dt(r.pop("paid")), "paid_amount": r.pop("paid_amount")})
        t = self.__dict__.pop("txn")
        cpname = t.pop("cpname")
        vocab = pa.concat_arrays([_pa(np.array(self.cp_vocab, dtype=str)), _pa(self.names)])
        out["transactions"] = pd.DataFrame({
            "txn_id": _ser(self.__dict__.pop("txn_ids")), "subject_id": sid(t.pop("subj")), "date": _dt(t.pop("date")),
            "amount": np.round(t.pop("amt").astype(float), 2), "direction": _cats(["out", "in"], t.pop("dir")),
            "counterparty_id": sid(t.pop("cp")),
            "counterparty_name": _ser(_take(vocab, np.where(cpname >= 0, cpname, len(self.cp_vocab) - 1 - cpname))),
            "counterparty_industry": _cats(_INDUSTRIES, t.pop("ind")), "loan_id": lid(t.pop("loan"))})
        del t, cpname, vocab
        c = self.__dict__.pop("c")
        out["contacts"] = pd.DataFrame({
            "subject_id": sid(c.pop("subj")), "kind": _cats(schema.CONTACT_KINDS, c.pop("kind")),
            "value": _ser(c.pop("value")), "valid_from": _dt(c.pop("from")), "valid_to": _dt(c.pop("to"))})
        s = self.__dict__.pop("s")
        out["subsidies"] = pd.DataFrame({
            "subsidy_id": _ser(self.__dict__.pop("subsidy_ids")), "subject_id": sid(s["subj"]),
            "program": _cats(self.subsidy_programs, s["prog"]), "amount": s["amt"].astype(float),
            "application_date": _dt(s["app"]), "decision_date": _dt(s["dec"]),
            "status": _cats(schema.SUBSIDY_STATUS, s["status"])})
        del s
        d = self.__dict__.pop("loans")
        out["guarantees"] = pd.DataFrame({
            "guarantee_id": _ser(self.guarantee_ids), "loan_id": lid(self.g_loan), "guarantor_id": sid(self.g_guar),
            "amount": self.g_amount, "start_date": _dt(d["issue"][self.g_loan]),
            "end_date": _dt(d["closed_date"][self.g_loan])})
        n_loans = len(d["borrower"])
        out["loans"] = pd.DataFrame({
            "loan_id": lid(np.arange(n_loans)), "borrower_id": sid(d["borrower"]),
            "borrower_type": _cats(["household", *schema.ENTERPRISE_KINDS, "professional_manager"], d["btype"]),
            "institution": _cats([x[0] for x in _INSTITUTIONS], d["inst"]),
            "officer_id": _cats(self.officer_vocab, d["officer"]),
            "product": _cats(_PRODUCTS, d["product"]), "purpose": _cats(_PURPOSES, d["purpose"]),
            "amount": d["amount"].astype(float), "interest_rate": d["rate"].astype(float),
            "issue_date": _dt(d["issue"]), "maturity_date": _dt(d["maturity"]),
            "snapshot_date": _dt(np.full(n_loans, A)), "balance": d["balance"],
            "overdue_days": d["overdue"].astype(np.int64), "five_class": _cats(_FIVE, d["cls"]),
            "closed_date": _dt(d["closed_date"])})
        del d
        keep = self.role_keep
        out["roles"] = pd.DataFrame({
            "person_id": sid(self.P0 + self.r_person[keep]), "enterprise_id": sid(self.E0 + self.r_ent[keep]),
            "role": _cats(schema.ROLE_TYPES, self.r_role[keep]), "valid_from": _dt(self.r_from[keep]),
            "valid_to": _dt(self.r_to[keep])})
        out["enterprises"] = self._enterprise_frame(sid)
        head = self.h_head_person
        out["households"] = pd.DataFrame({
            "subject_id": sid(np.arange(self.n)), "village_code": _cats(self.v_codes, self.h_village),
            "head_id_number": _ser(_take(self.id_numbers, head)), "head_name": _ser(self.names[head]),
            "size": self.h_size.astype(np.int64), "labour_force": self.h_labour.astype(np.int64),
            "archived": self.h_archived, "archived_date": _dt(self.h_archived_date),
            "survey_date": _dt(self.h_survey), "head_education": _cats(_EDUCATION, self.head_edu),
            "head_health": _cats(_HEALTH, self.head_health),
            "head_marital_status": _cats(["single", "married", "divorced", "widowed"], self.marital),
            "annual_income": self.h_income, "operating_income": self.h_operating,
            "annual_expenses": self.h_expenses, "house_area": self.h_area.astype(float),
            "house_structure": _cats(_STRUCTURES, self.h_struct), "house_value": self.h_house_value,
            "land_mu": self.h_land, "livestock_units": self.h_livestock, "machinery_value": self.h_machinery,
            "vehicle_value": self.h_vehicle, "deposits": self.h_deposits, "other_assets": self.h_other,
            "informal_debt": self.h_informal, "insurance_cover": self.h_insurance,
            "honours": self.h_honours.astype(np.int64),
            "village_assessment": _cats(_ASSESSMENT, self.h_assess, self.h_assess < 0),
            "credit_report_status": _cats(schema.CREDIT_REPORT, self.h_report),
            "bad_credit_date": _dt(self.h_bad_date), "criminal_record_date": _dt(self.h_crime)})
        m = len(self.all_age)
        cert = np.full(m, -1, dtype=np.int64)
        cert[self.pm] = self.pm_cert
        years = np.full(m, np.nan)
        years[self.pm] = self.pm_years
        out["persons"] = pd.DataFrame({
            "person_id": sid(self.P0 + np.arange(m)), "id_number": _ser(self.id_numbers),
            "name": _ser(self.names), "household_id": sid(self.all_hh),
            "relation": _cats(["head", "spouse", "child", "parent", "none"], self.all_rel),
            "birth_date": _dt(self.all_birth), "gender": _cats(["female", "male"], self.all_male.astype(np.int64)),
            "ethnicity": _cats(_ETHNIC, self.all_eth), "religion": _cats(_RELIGIONS, self.religion, self.religion < 0),
            "education": _cats(_EDUCATION, self.all_edu),
            "manager_certificate": _cats(["junior", "intermediate", "senior"], cert, cert < 0),
            "years_experience": years})
        year = int(str(A.astype("datetime64[Y]")))
        out["villages"] = pd.DataFrame({
            "village_code": _ser(self.v_codes), "village_name": _ser(self.v_names),
            "township_code": _cats(self.t_codes, self.v_town), "township_name": _cats(self.t_names, self.v_town),
            "county_code": _cats([self.county], np.zeros(self.n_v, np.int64)),
            "urban_rural_class": _ser(self.v_class), "vintage": np.full(self.n_v, year, dtype=np.int64)})
        return {name: out[name] for name in schema.TABLES}

    def _enterprise_frame(self, sid: Any) -> pd.DataFrame:
        e = self.n_e
        kind = self.e_kind
        rep_name = self.names[self.e_rep]
        names = np.select(
            [kind == 0, kind == 1, kind == 2],
            [_cat(self.county_short, self.e_vname, rep_name, "家庭农场"),
             _cat(self.county_short, self.e_vname, self.e_spec, "专业合作社"),
             _cat(self.county_short, np.array(["金穗", "丰源", "绿野", "云岭", "高原", "山泉"])[np.arange(e) % 6],
                  self.e_spec, "开发有限公司")],
            _cat(self.county_short, self.e_vname, rep_name, np.array(["农资经营部", "小卖部", "农家乐", "运输部"])
                 [np.arange(e) % 4]))
        scope = np.select(
            [kind == 0, kind == 1, kind == 2],
            [_cat(self.e_spec, "种植、养殖、销售"), _cat(self.e_spec, "生产、收购、销售；农业技术服务"),
             _cat(self.e_spec, "种植、加工、销售；农业技术开发")],
            "农资、日用百货零售")
        fr = self.e_fundraising
        names = np.where(fr, _cat(self.county_short, self.e_vname, "惠农财富管理专业合作社"), names)
        scope = np.where(fr, "农业技术推广；理财咨询；财富管理；资金互助", scope)
        members = np.where(fr, np.minimum(self.e_members, _FUNDRAISER_MEMBERS), self.e_members)
        promised = np.where(fr, np.round(self.rng("fundraising").uniform(0.12, 0.20, e), 3), self.e_yield)
        operator = np.where((kind == 0) | (kind == 3), self.e_rep, -1)
        frame = pd.DataFrame({
            "subject_id": sid(self.E0 + np.arange(e)), "kind": _cats(_KINDS, kind), "name": _ser(names),
            "uscc": _ser(self.e_uscc, self.e_uscc == ""), "operator_id_number": _ser(_take(self.id_numbers, operator)),
            "village_code": _cats(self.v_codes, self.e_village), "registered_date": _dt(self.e_reg),
            "business_scope": _ser(scope), "registered_capital": self.e_capital,
            "members": pd.array(np.where(kind == 1, members, 0), dtype="Int64"),
            "employees": self.e_employees.astype(np.int64), "land_mu": self.e_land, "total_assets": self.e_assets,
            "total_liabilities": self.e_liab, "revenue_last_year": self.e_revenue, "revenue_prev_year": self.e_prev,
            "net_profit": self.e_profit, "insurance_cover": self.e_insurance,
            "honours": self.e_honours.astype(np.int64), "demonstration_level": _cats(_DEMONSTRATION, self.e_demo),
            "promised_yield": promised})
        frame["members"] = frame["members"].mask(kind != 1)
        return frame


def _check_args(households: Any, seed: Any, county_code: Any) -> tuple[int, int, str]:
    if isinstance(households, bool) or not isinstance(households, (int, np.integer)):
        raise InputError(f"expected a whole number, got {type(households).__name__}", argument="households",
                         value=households)
    if not _MIN_HOUSEHOLDS <= int(households) <= _MAX_HOUSEHOLDS:
        raise InputError(f"must be between {_MIN_HOUSEHOLDS} and {_MAX_HOUSEHOLDS:,} (the injected patterns need "
                         "a few hundred households)", argument="households", value=households)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InputError("expected a non-negative whole number", argument="seed", value=seed)
    if not (isinstance(county_code, str) and len(county_code) == 6 and county_code.isdigit()
            and county_code.startswith("5301") and county_code[4:] != "00"):
        raise InputError("expected a six-digit county-level code under Kunming (5301xx, e.g. 530128)",
                         argument="county_code", value=county_code)
    return int(households), int(seed), county_code


def make_county(households: int = 2000, seed: int = 0, as_of: Any = "2026-06-30", *,
                county_code: str = "530128") -> County:
    """Generate a synthetic rural county of Kunming with every table and the ground truth.

    Parameters
    ----------
    households : int, default 2000
        Number of farm households (200 to 20 million). Villages hold 300-600 households (at least
        ten villages in three townships); organisations, loans and injected patterns scale with it.
    seed : int, default 0
        Same seed, same county (every frame identical); different seeds differ.
    as_of : date-like, default "2026-06-30"
        The snapshot date: loans are issued over the five years before it and no event is dated
        after it. It should not lie after today, because resident ID numbers of people born after
        today do not validate.
    county_code : str, default "530128"
        Six-digit county code under Kunming (``5301xx``); 530128 is Luquan Yi and Miao Autonomous
        County (禄劝彝族苗族自治县), 530124 Fumin (富民县).

    Returns
    -------
    County
        Tables in canonical dtypes (passing :func:`ruralcredit.schema.validate_all`) and
        ``truth`` frames; see the module docstring.

    Raises
    ------
    InputError
        For a bad ``households``, ``seed``, ``as_of`` or ``county_code``.

    Examples
    --------
    >>> county = make_county(households=300, seed=1)
    >>> sorted(county.tables) == sorted(schema.TABLES)
    True
    >>> bool((county.loans["issue_date"] <= county.as_of).all())
    True
    """
    households, seed, county_code = _check_args(households, seed, county_code)
    ts = schema.parse_as_of(as_of)
    if not pd.Timestamp("2000-01-01") <= ts <= pd.Timestamp("2099-12-31"):
        raise InputError("expected a date in 2000-2099", argument="as_of", value=str(ts.date()))
    b = _Build(households, seed, ts, county_code)
    b.geography()
    b.households()
    b.enterprises()
    b.roles()
    b.identities()
    b.subject_ids()
    b.all_loans()
    b.guarantees()
    b.credit_history()
    b.transactions()
    b.contacts()
    b.subsidies()
    truth = {"defaults": b.truth_defaults(), "patterns": b.truth_patterns(), "guarantee_groups": b.truth_groups()}
    tables = b.frames()  # last: it releases the working arrays
    meta = {"households": households, "villages": int(b.n_v), "townships": int(b.n_t),
            "county_name": b.county_name}
    return County(tables=tables, truth=truth, as_of=ts, seed=seed, county_code=county_code, meta=meta)
