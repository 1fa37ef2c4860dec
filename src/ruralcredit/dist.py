"""Features and scoring over Dask, partitioned by subject so that loans meet their borrowers (layer 5).

A bank's data platform outgrows one machine; :func:`ruralcredit.features.build_features` does not
need to change for that. It is run, unchanged, on **self-contained bundles**: each bundle holds a
slice of the subjects of one type plus every row their features read, so that the features of a
subject computed inside its bundle equal, value for value and bit for bit, the features computed
from the whole county on one machine.

The pieces, from the bottom up:

- :func:`partition_of`: the partition of each subject, a stable hash of its id
  (:func:`pandas.util.hash_pandas_object`, fixed key) modulo the number of partitions. The same id
  lands in the same partition in every process, on every run, whatever its string dtype.
- :func:`partition_tables`: pandas in, a list of bundles out. A subject's bundle gets its own row,
  its loans and their instalments, the guarantees it gave **and the loans those guarantees cover**
  (copied into the guarantor's bundle when the borrower lives in another one), and for
  organisations the roles held in it with the persons who hold them and the households those
  persons belong to or head (legal representatives' records); for professional managers, their roles
  and the entities they manage (managed land). Only tables a subject type's features read are
  shipped (:func:`tables_needed`): contacts, transactions, villages and subsidies are not.
- :func:`features_partition`: the partition function, pure pandas: ``build_features`` on one
  bundle. It is what a Dask worker, a Spark executor (``mapInPandas`` / ``applyInPandas``, see
  ``docs/dist.md``) or a plain process pool runs.
- :func:`build_features_dask`: the features of every subject as a lazy ``dask.dataframe.DataFrame``,
  from pandas tables (bundled on the client and scattered to the workers) or from Dask DataFrames
  (keyed and shuffled on the cluster, never gathered).
- :func:`score_dask`: any scorer's ``score(frame)`` applied per partition (the scorer is shipped once
  per worker, not once per partition); :func:`to_pandas` gathers a result in the single-machine order.

Exactness. Within each bundle the rows keep their original relative order, so that sums over a
subject's loans and guarantees add the same numbers in the same order as on one machine; the
features then equal ``build_features`` on the whole tables exactly (``assert_frame_equal`` after
:func:`to_pandas`). Scores equal value for value; the categories of a score column whose texts
depend on the data (e.g. ``vetoes``, ``missing``) are the union over partitions, in another order.

Validation. Pandas tables are validated on the client first, the same checks ``build_features``
makes (so a bad table fails before any work is shipped), and again inside every bundle. Dask tables
are validated inside the bundles, and the keys a partitioning could split (``loans.loan_id``,
``guarantees.guarantee_id``, and for organisations the household heads' ID numbers) are checked
across the whole table as part of the same computation; rows no subject's features read (e.g.
persons holding no role) are not validated there.

Dask (``dask[dataframe]`` and ``distributed``, the ``dask`` extra) is imported only by the functions
that use it; the pandas partitioner and the partition function work without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ruralcredit.errors import InputError, ModelError, SchemaError
from ruralcredit.features import build_features, tables_needed, tables_present, validate_tables
from ruralcredit.schema import TABLES, parse_as_of

if TYPE_CHECKING:  # pragma: no cover - typing only
    import dask.dataframe as dd
    from distributed import Client

__all__ = [
    "build_features_dask",
    "features_partition",
    "partition_of",
    "partition_tables",
    "score_dask",
    "tables_needed",
    "to_pandas",
]

#: Helper columns carried while partitioning (removed before ``build_features`` sees a table).
_KEY = "__rc_partition"
_ROW = "__rc_row"
_ID = "__rc_id_number"
_HELPERS = (_KEY, _ROW, _ID)
#: Row numbers of a Dask table: partition number * this + position within the partition.
_ROW_STRIDE = 1 << 40

#: The table whose rows are the subjects of a type, and its key column.
_SUBJECTS: dict[str, tuple[str, str]] = {
    "household": ("households", "subject_id"),
    "family_farm": ("enterprises", "subject_id"),
    "cooperative": ("enterprises", "subject_id"),
    "enterprise": ("enterprises", "subject_id"),
    "professional_manager": ("persons", "person_id"),
}


# ------------------------------------------------------------------------------------------ public: pandas


def partition_of(subject_ids: Any, n_partitions: int) -> np.ndarray:
    """The partition (0 .. ``n_partitions - 1``) of each subject id: a stable hash modulo the count.

    The hash is :func:`pandas.util.hash_pandas_object` of the id text (SipHash with pandas' fixed
    key), so an id lands in the same partition in every process and on every run, whether the ids
    are ``str``, Arrow or ``object`` strings.

    Parameters
    ----------
    subject_ids : array-like of str
        Subject ids (no missing values).
    n_partitions : int
        Positive number of partitions.

    Returns
    -------
    numpy.ndarray of int64

    Raises
    ------
    InputError
        For a non-positive or non-integer ``n_partitions``, or a missing / non-text id.

    Examples
    --------
    >>> partition_of(["HH000001", "HH000002"], 4).tolist() == partition_of(["HH000001", "HH000002"], 4).tolist()
    True
    """
    n = _check_npartitions(n_partitions, "n_partitions")
    s = subject_ids if isinstance(subject_ids, pd.Series) else pd.Series(np.asarray(subject_ids, dtype=object))
    if s.isna().any():
        raise InputError(f"{int(s.isna().sum())} missing subject id(s)", argument="subject_ids")
    if len(s) and pd.api.types.infer_dtype(s, skipna=True) != "string":
        raise InputError(f"subject ids must be text, got {pd.api.types.infer_dtype(s, skipna=True)}",
                         argument="subject_ids")
    return _partition_numbers(s, n)


def partition_tables(tables: Any, subject_type: str, n_partitions: int) -> list[dict[str, pd.DataFrame]]:
    """Split pandas tables into ``n_partitions`` self-contained bundles of one subject type.

    Every subject of the type lands in exactly one bundle (:func:`partition_of` of its id) together
    with every row its features read (see the module docstring); a loan a subject guarantees is
    copied into the guarantor's bundle when its borrower lives in another. Rows no subject of the type
    needs (e.g. loans of other borrowers) are left out. Within a bundle rows keep their input order.

    Parameters
    ----------
    tables : mapping of str to DataFrame, or an object with a ``tables`` mapping
        Schema tables (a synthetic ``County`` works); see :func:`tables_needed`.
    subject_type : str
        One of :data:`ruralcredit.schema.SUBJECT_TYPES`.
    n_partitions : int
        Positive number of bundles; a bundle may hold no subject.

    Returns
    -------
    list of dict of str to DataFrame
        ``n_partitions`` bundles; each holds the tables of :func:`tables_needed` that were given,
        validated (canonical dtypes), with a fresh ``RangeIndex``.

    Raises
    ------
    InputError
        Unknown subject type, bad ``n_partitions``, or ``tables`` not a mapping.
    SchemaError
        A needed table is missing, or a table breaks its contract (the checks ``build_features``
        makes, run on the whole tables before splitting).
    """
    _check_subject_type(subject_type)
    n = _check_npartitions(n_partitions, "n_partitions")
    raw = _as_mapping(tables)
    t = _validated(raw, subject_type)
    return _split(t, _placement(t, subject_type, n))


def features_partition(part_tables: Mapping[str, pd.DataFrame], subject_type: str, as_of: Any) -> pd.DataFrame:
    """The partition function: the features of the subjects of one self-contained bundle.

    Plain pandas, no Dask: ``build_features(part_tables, subject_type, as_of)``. A bundle from
    :func:`partition_tables` (or any equivalent, e.g. a Spark group) gives the features of its
    subjects exactly as the whole tables would.

    Parameters
    ----------
    part_tables : mapping of str to DataFrame
        One bundle.
    subject_type : str
    as_of : date-like

    Returns
    -------
    pandas.DataFrame
        As :func:`ruralcredit.features.build_features`: one row per subject of the bundle, sorted
        by ``subject_id``.

    Raises
    ------
    InputError, SchemaError
        As :func:`ruralcredit.features.build_features`.
    """
    return build_features(part_tables, subject_type, as_of)


# ------------------------------------------------------------------------------------------- public: Dask


def build_features_dask(tables: Any, subject_type: str, as_of: Any, *, npartitions: int | None = None,
                        client: Client | None = None) -> dd.DataFrame:
    """The features of every subject of one type, as a lazy Dask DataFrame partitioned by subject.

    Parameters
    ----------
    tables : mapping of str to pandas or Dask DataFrame, or an object with a ``tables`` mapping
        Schema tables. All pandas: validated and bundled here (:func:`partition_tables`), the
        bundles are scattered to the cluster's workers. Any Dask DataFrame among them: every table
        is keyed by subject and shuffled on the cluster (nothing is gathered on the client).
    subject_type : str
        One of :data:`ruralcredit.schema.SUBJECT_TYPES`.
    as_of : date-like
        Only facts known on this day are used.
    npartitions : int, optional
        Number of subject partitions. Default: twice the cluster's worker threads with a client,
        else the CPU count for pandas input, or the subject table's partitions for Dask input.
    client : distributed.Client, optional
        The cluster to scatter bundles to; default: the current client if there is one. Without
        any client the result computes on Dask's local scheduler.

    Returns
    -------
    dask.dataframe.DataFrame
        ``npartitions`` partitions, each the :func:`features_partition` of one bundle (sorted by
        ``subject_id`` within the partition, an index of its own). Its columns and dtypes are those
        of ``build_features``. :func:`to_pandas` gives the single-machine frame.

    Raises
    ------
    InputError
        Unknown subject type, bad ``as_of`` or ``npartitions``, ``tables`` not a mapping.
    SchemaError
        A missing needed table or a table of the wrong type; for pandas input also any contract
        breach (raised here). For Dask input, contract breaches and duplicate keys are raised when
        the result is computed.
    ImportError
        Dask or distributed is not installed (``pip install "ruralcredit[dask]"``).

    Examples
    --------
    >>> from distributed import Client, LocalCluster                        # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, processes=False))         # doctest: +SKIP
    >>> ddf = build_features_dask(county, "household", "2026-06-30")        # doctest: +SKIP
    >>> to_pandas(ddf).equals(build_features(county, "household", "2026-06-30"))  # doctest: +SKIP
    True
    """
    dd = _import_dask()
    _check_subject_type(subject_type)
    day = parse_as_of(as_of)
    raw = _as_mapping(tables)
    if npartitions is not None:
        _check_npartitions(npartitions, "npartitions")
    if client is None:
        client = _current_client()
    meta = _empty_features(subject_type, day)
    if any(isinstance(raw.get(name), dd.DataFrame) for name in tables_needed(subject_type)):
        return _features_from_dask(raw, subject_type, day, npartitions, client, meta)

    n = npartitions if npartitions is not None else _default_npartitions(client)
    bundles = partition_tables(raw, subject_type, n)
    import dask

    # with a cluster the bundles go to the workers once; without one they ride in the graph. pure=False:
    # no hashing of the bundles' data for task names
    shipped = client.scatter(bundles, hash=False) if client is not None else bundles
    parts = [dask.delayed(features_partition, pure=False)(b, subject_type, day) for b in shipped]
    return dd.from_delayed(parts, meta=meta, verify_meta=False)


def score_dask(features: dd.DataFrame, scorer: Any, *, meta: pd.DataFrame | None = None) -> dd.DataFrame:
    """Score a Dask feature frame partition by partition with any scorer's ``score(frame)``.

    Parameters
    ----------
    features : dask.dataframe.DataFrame
        E.g. from :func:`build_features_dask`, with any columns the scorer reads besides the
        features (such as ``blacklisted`` for the built-in templates' veto) added by the caller.
    scorer : object
        A fitted scorer with ``score(frame) -> DataFrame`` (e.g.
        :class:`~ruralcredit.models.ExpertScorecard`, :class:`~ruralcredit.models.Scorecard`). It is
        sent once to each worker.
    meta : DataFrame, optional
        An empty frame with the scorer's output columns and dtypes. By default the scorer is
        tried on an empty frame of the features' columns, then (a scorer that refuses empty input,
        e.g. a statistical :class:`~ruralcredit.models.Scorecard`) on two made-up rows.

    Returns
    -------
    dask.dataframe.DataFrame
        The scorer's output per partition (the shared score columns). Categorical columns are
        declared with unknown categories: texts that depend on the data differ between partitions.

    Raises
    ------
    InputError
        ``features`` is not a Dask DataFrame.
    ModelError
        ``scorer`` has no callable ``score``, or the scorer refuses the features (e.g. a column it
        reads is absent), found here before anything is computed.
    """
    dd = _import_dask()
    import dask
    from dask.dataframe.utils import clear_known_categories, make_meta

    if not isinstance(features, dd.DataFrame):
        raise InputError(f"expected a dask DataFrame of features, got {type(features).__name__}",
                         argument="features", value=type(features).__name__)
    if not callable(getattr(scorer, "score", None)):
        raise ModelError(f"scorer {type(scorer).__name__} has no score(frame) method")
    if meta is None:
        meta = _score_meta(scorer, make_meta(features))
    if not isinstance(meta, pd.DataFrame):
        raise ModelError(f"{type(scorer).__name__}.score must return a DataFrame, got {type(meta).__name__}")
    meta = clear_known_categories(meta)
    shipped = dask.delayed(scorer, pure=False)
    return features.map_partitions(_score_partition, shipped, meta=meta, enforce_metadata=False)


def to_pandas(frame: Any, *, sort_by: str | None = "subject_id") -> pd.DataFrame:
    """Gather a (Dask) result into pandas in the single-machine order.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame or pandas.DataFrame
    sort_by : str or None
        Column to sort by (``subject_id``: the order of ``build_features``); ``None`` keeps the
        partition order.

    Returns
    -------
    pandas.DataFrame
        With a fresh ``RangeIndex``.

    Raises
    ------
    InputError
        ``frame`` is neither, or lacks ``sort_by``.
    """
    if not isinstance(frame, pd.DataFrame):
        if not hasattr(frame, "compute") or not hasattr(frame, "columns"):
            raise InputError(f"expected a dask or pandas DataFrame, got {type(frame).__name__}",
                             argument="frame", value=type(frame).__name__)
    if sort_by is not None and sort_by not in frame.columns:
        raise InputError(f"no column {sort_by!r} to sort by", argument="sort_by", value=sort_by)
    out = frame if isinstance(frame, pd.DataFrame) else frame.compute()
    if sort_by is not None:
        out = out.sort_values(sort_by, kind="stable")
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------- checks


def _check_subject_type(subject_type: Any) -> None:
    tables_needed(subject_type)  # InputError for an unknown subject type


def _check_npartitions(n: Any, argument: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"expected a positive integer, got {n!r}", argument=argument, value=n)
    return int(n)


def _as_mapping(tables: Any) -> Mapping[str, Any]:
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    if not isinstance(tables, Mapping):
        raise InputError(f"expected a mapping of table name to DataFrame, got {type(tables).__name__}",
                         argument="tables", value=type(tables).__name__)
    return tables


def _validated(raw: Mapping[str, Any], subject_type: str) -> dict[str, pd.DataFrame]:
    """The checks ``build_features`` makes, on the whole tables: contracts, references, unique heads."""
    for name in tables_present(raw, subject_type):
        if isinstance(raw[name], pd.DataFrame) and any(c in raw[name].columns for c in _HELPERS):
            raise SchemaError(f"columns named {list(_HELPERS)} are reserved for partitioning", table=name,
                              columns=[c for c in _HELPERS if c in raw[name].columns], problem="reserved_column")
    out = validate_tables(raw, subject_type)
    if subject_type in ("family_farm", "cooperative", "enterprise") and {"roles", "persons", "households"} <= set(out):
        _check_unique_heads(out["households"]["head_id_number"])
    return out


def _check_unique_heads(heads: pd.Series) -> None:
    """As ``build_features``: a resident ID number heading two households makes records ambiguous."""
    dup = heads.duplicated()
    if dup.any():
        raise SchemaError("a resident ID number heads more than one household", table="households",
                          columns=["head_id_number"], count=int(dup.sum()), problem="duplicate_head")


# ------------------------------------------------------------------------------------------- partitioning


def _partition_numbers(s: Any, n: int) -> np.ndarray:
    h = pd.util.hash_pandas_object(pd.Series(s).reset_index(drop=True), index=False).to_numpy()
    return (h % np.uint64(n)).astype("int64")


def _arrow_text(values: pd.Series) -> pa.Array | pa.ChunkedArray:
    """Text values as an Arrow large-string array (zero-copy for pandas' Arrow-backed ``str``)."""
    arr = pa.array(values.array) if values.dtype != object else pa.array(values.to_numpy(), from_pandas=True)
    return pc.cast(arr, pa.large_string())


def _positions(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position of each value among ``keys`` (unique), -1 when absent or missing: an Arrow hash join."""
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    k = _arrow_text(keys)
    if isinstance(k, pa.ChunkedArray):
        k = k.combine_chunks()
    found = pc.fill_null(pc.index_in(_arrow_text(values), value_set=k), -1)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def _pairs(rows: np.ndarray, keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (row, key) pairs, ignoring rows < 0."""
    ok = rows >= 0
    code = np.unique(rows[ok] * n + keys[ok])
    return code // n, code % n


class _Placement:
    """Which rows of each (validated) table go to which partition: parallel arrays ``rows, keys``."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def put(self, name: str, rows: np.ndarray, keys: np.ndarray) -> None:
        self.tables[name] = (rows.astype(np.int64, copy=False), keys.astype(np.int64, copy=False))


def _placement(t: Mapping[str, pd.DataFrame], subject_type: str, n: int) -> _Placement:
    """Where every row a subject type's features read goes (pandas tables, validated, unique keys).

    Rows no subject of the type needs are placed nowhere; a row may go to several partitions (a loan
    guaranteed from another partition, a person holding roles in entities of several partitions),
    never twice to one.
    """
    out = _Placement(n)
    name, id_col = _SUBJECTS[subject_type]
    subject_rows = np.flatnonzero(_subject_rows(t, subject_type))
    ids = t[name][id_col].take(subject_rows)
    subject_keys = _partition_numbers(ids, n)
    out.put(name, subject_rows, subject_keys)

    def owned(table: str, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``table`` whose ``column`` is a subject, with that subject's partition."""
        pos = _positions(t[table][column], ids)
        rows = np.flatnonzero(pos >= 0)
        return rows, subject_keys[pos[rows]]

    loans = t["loans"]
    loan_rows, loan_keys = owned("loans", "borrower_id")
    key_of_loan = np.full(len(loans), -1, dtype=np.int64)  # the borrower's partition, -1: not a subject
    key_of_loan[loan_rows] = loan_keys
    rep_keys = key_of_loan[_positions(t["repayments"]["loan_id"], loans["loan_id"])]  # validated: all found
    rep_rows = np.flatnonzero(rep_keys >= 0)
    out.put("repayments", rep_rows, rep_keys[rep_rows])

    if subject_type != "professional_manager" and "guarantees" in t:
        g_rows, g_keys = owned("guarantees", "guarantor_id")
        out.put("guarantees", g_rows, g_keys)
        # the loans a subject guarantees travel to the guarantor's partition (the borrower may live elsewhere)
        covered, keys = _pairs(_positions(t["guarantees"]["loan_id"].take(g_rows), loans["loan_id"]), g_keys, n)
        extra = key_of_loan[covered] != keys
        loan_rows = np.concatenate([loan_rows, covered[extra]])
        loan_keys = np.concatenate([loan_keys, keys[extra]])
    out.put("loans", loan_rows, loan_keys)

    if subject_type == "professional_manager":
        if "roles" in t:
            r_rows, r_keys = owned("roles", "person_id")
            out.put("roles", r_rows, r_keys)
            if "enterprises" in t:  # the entities a manager manages (managed land)
                e = _positions(t["roles"]["enterprise_id"].take(r_rows), t["enterprises"]["subject_id"])
                out.put("enterprises", *_pairs(e, r_keys, n))
        return out

    if subject_type != "household" and "roles" in t:
        r_rows, r_keys = owned("roles", "enterprise_id")
        out.put("roles", r_rows, r_keys)
        if "persons" in t:
            persons = t["persons"]
            p_rows, p_keys = _pairs(_positions(t["roles"]["person_id"].take(r_rows), persons["person_id"]),
                                    r_keys, n)
            out.put("persons", p_rows, p_keys)
            if "households" in t:
                # the households the role holders belong to (references) or head (their records)
                hh = t["households"]
                member = _positions(persons["household_id"].take(p_rows), hh["subject_id"])
                head = _positions(persons["id_number"].take(p_rows), hh["head_id_number"])
                out.put("households", *_pairs(np.concatenate([member, head]), np.concatenate([p_keys, p_keys]), n))
    return out


def _subject_rows(t: Mapping[str, pd.DataFrame], subject_type: str) -> np.ndarray:
    """Rows of the subject table that may be subjects of the type (a superset: as_of decides later)."""
    if subject_type == "household":
        return np.ones(len(t["households"]), dtype=bool)
    if subject_type == "professional_manager":
        p = t["persons"]
        rows = p["manager_certificate"].notna().to_numpy()
        if "roles" in t:
            r = t["roles"]
            managers = r.loc[(r["role"] == "manager").to_numpy(dtype=bool), "person_id"].drop_duplicates()
            rows = rows | (_positions(p["person_id"], managers) >= 0)
        return rows
    return (t["enterprises"]["kind"] == subject_type).to_numpy(dtype=bool)


def _split(t: Mapping[str, pd.DataFrame], placement: _Placement) -> list[dict[str, pd.DataFrame]]:
    """Cut the tables into bundles by a placement, rows in input order within each bundle."""
    n = placement.n
    bundles: list[dict[str, pd.DataFrame]] = [{} for _ in range(n)]
    for name, (rows, keys) in placement.tables.items():
        order = np.lexsort((rows, keys))
        rows = rows[order]
        bounds = np.searchsorted(keys[order], np.arange(n + 1), side="left")
        df = t[name]
        for i in range(n):  # a loop over partitions, not records
            bundles[i][name] = df.take(rows[bounds[i]:bounds[i + 1]]).reset_index(drop=True)
    return bundles


class _DaskOps:
    """Partitioning operations on Dask tables: every row is kept (and so validated somewhere)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def key(self, s: Any) -> Any:
        return s.map_partitions(_partition_numbers, self.n, meta=(_KEY, "int64"))

    def concat(self, frames: Sequence[Any]) -> Any:
        import dask.dataframe as dd

        return dd.concat(list(frames))

    def fill_key(self, df: Any) -> Any:
        # a row whose parent is missing (an orphan instalment) goes to partition 0, where the bundle's
        # reference check reports it as build_features would
        return df.assign(**{_KEY: df[_KEY].fillna(0).astype("int64")})


def _keyed_tables(t: Mapping[str, Any], subject_type: str, n: int, ops: _DaskOps) -> dict[str, Any]:
    """Dask tables with the partition number of each row in ``_KEY`` (the frame form of :func:`_placement`).

    Every row of the subject, loan, repayment, guarantee and role tables is kept (rows of other
    borrowers land somewhere and are ignored there, but validated); a row may appear under several
    keys, never twice under one unless it is twice in the input.
    """
    name, id_col = _SUBJECTS[subject_type]
    subjects = t[name]
    out: dict[str, Any] = {name: subjects.assign(**{_KEY: ops.key(subjects[id_col])})}

    def owned(df: Any, column: str) -> Any:
        return df.assign(**{_KEY: ops.key(df[column])})

    loans = owned(t["loans"], "borrower_id")
    out["repayments"] = ops.fill_key(t["repayments"].merge(loans[["loan_id", _KEY]], on="loan_id", how="left"))

    if subject_type != "professional_manager" and "guarantees" in t:
        g = owned(t["guarantees"], "guarantor_id")
        out["guarantees"] = g
        covered = g[["loan_id", _KEY]].drop_duplicates().merge(t["loans"], on="loan_id", how="inner")
        already = ops.key(covered["borrower_id"]) == covered[_KEY]
        loans = ops.concat([loans, covered[~already][list(loans.columns)]])
    out["loans"] = loans

    if subject_type == "professional_manager":
        if "roles" in t:
            r = owned(t["roles"], "person_id")
            out["roles"] = r
            if "enterprises" in t:
                pairs = r[["enterprise_id", _KEY]].drop_duplicates()
                managed = pairs.merge(t["enterprises"], left_on="enterprise_id", right_on="subject_id", how="inner")
                out["enterprises"] = managed.drop(columns=["enterprise_id"])
        return out

    if subject_type != "household" and "roles" in t:
        r = owned(t["roles"], "enterprise_id")
        out["roles"] = r
        if "persons" in t:
            persons = r[["person_id", _KEY]].drop_duplicates().merge(t["persons"], on="person_id", how="inner")
            out["persons"] = persons
            if "households" in t:
                hh = t["households"]
                members = persons[["household_id", _KEY]].dropna(subset=["household_id"]).rename(
                    columns={"household_id": "subject_id"})
                holders = persons[[_KEY]].assign(**{_ID: persons["id_number"].str.upper()})
                heads = hh[["subject_id"]].assign(**{_ID: hh["head_id_number"].str.upper()})
                headed = holders.merge(heads, on=_ID, how="inner")[["subject_id", _KEY]]
                pairs = ops.concat([members, headed]).drop_duplicates()
                out["households"] = pairs.merge(hh, on="subject_id", how="inner")
    return out


# ------------------------------------------------------------------------------------------- Dask internals


def _import_dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in development
        raise ImportError('ruralcredit.dist needs Dask: pip install "ruralcredit[dask]"') from exc
    return dd


def _current_client() -> Client | None:
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - the dask extra brings distributed
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _default_npartitions(client: Client | None) -> int:
    if client is not None:
        return max(1, 2 * sum(client.nthreads().values()))
    return max(1, os.cpu_count() or 1)


def _empty_features(subject_type: str, day: pd.Timestamp) -> pd.DataFrame:
    """The (empty) feature frame of a type: the meta of every Dask result."""
    empty = {name: TABLES[name].empty() for name in tables_needed(subject_type)}
    return build_features(empty, subject_type, day)


def _score_meta(scorer: Any, empty: pd.DataFrame) -> Any:
    """The scorer's output on an empty frame, else on dask's two made-up rows; the first error else."""
    from dask.dataframe.utils import meta_nonempty

    try:
        return scorer.score(empty)
    except Exception as first:
        try:
            return scorer.score(meta_nonempty(empty)).iloc[:0]
        except Exception:
            raise first from None


def _score_partition(part: pd.DataFrame, scorer: Any) -> pd.DataFrame:
    return scorer.score(part)


def _with_rows(df: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
    """Number rows in the order ``compute()`` concatenates them: partition, then position."""
    number = 0 if partition_info is None else int(partition_info["number"])
    return df.assign(**{_ROW: number * _ROW_STRIDE + np.arange(len(df), dtype="int64")})


def _features_from_dask(raw: Mapping[str, Any], subject_type: str, day: pd.Timestamp, npartitions: int | None,
                        client: Client | None, meta: pd.DataFrame) -> dd.DataFrame:
    import dask
    import dask.dataframe as dd

    use = tables_present(raw, subject_type)
    t: dict[str, Any] = {}
    dtypes: dict[str, dict[str, Any]] = {}
    for name in use:
        df = raw[name]
        if isinstance(df, pd.DataFrame):
            df = dd.from_pandas(df, npartitions=1, sort=False)
        elif not isinstance(df, dd.DataFrame):
            raise SchemaError(f"expected a pandas or dask DataFrame, got {type(df).__name__}", table=name,
                              problem="type")
        reserved = [c for c in _HELPERS if c in df.columns]
        if reserved:
            raise SchemaError(f"columns named {list(_HELPERS)} are reserved for partitioning", table=name,
                              columns=reserved, problem="reserved_column")
        missing = [c for c in TABLES[name].required_columns if c not in df.columns]
        if missing:
            raise SchemaError("missing required columns", table=name, columns=missing, problem="missing_columns")
        dtypes[name] = df.dtypes.to_dict()
        t[name] = df.map_partitions(_with_rows, meta={**dtypes[name], _ROW: "int64"})
    subject_name = _SUBJECTS[subject_type][0]
    n = npartitions if npartitions is not None else (
        max(t[subject_name].npartitions, _default_npartitions(client)) if client is not None
        else t[subject_name].npartitions)
    keyed = _keyed_tables(t, subject_type, n, _DaskOps(n))
    divisions = (*range(n), n - 1)
    names = list(keyed)
    frames = [keyed[k].set_index(_KEY, divisions=divisions) for k in names]
    labels, duplicated = _global_checks(t, subject_type, use)
    # every partition waits for the whole-table key checks (lazy, computed once with the result)
    checked = dask.delayed(_raise_duplicates, pure=True)(labels, *duplicated)
    return dd.map_partitions(_features_of_keyed, checked, *frames, names=names, dtypes=dtypes,
                             subject_type=subject_type, as_of=day, meta=meta, align_dataframes=False,
                             enforce_metadata=False)


def _global_checks(t: Mapping[str, Any], subject_type: str, use: Sequence[str]
                   ) -> tuple[list[tuple[str, str]], list[Any]]:
    """Keys that a partitioning could split across bundles: (table, column) and lazy duplicate counts."""
    checks = [("loans", "loan_id")]
    if "guarantees" in use and subject_type != "professional_manager":
        checks.append(("guarantees", "guarantee_id"))
    if subject_type in ("family_farm", "cooperative", "enterprise") and {"roles", "persons", "households"} <= set(use):
        checks.append(("households", "head_id_number"))
    duplicated = []
    for table, column in checks:
        values = t[table][column]
        if column == "head_id_number":
            values = values.str.upper()
        counts = values.value_counts()
        duplicated.append(counts[counts > 1])
    return checks, duplicated


def _raise_duplicates(labels: Sequence[tuple[str, str]], *duplicated: pd.Series) -> bool:
    for (table, column), dup in zip(labels, duplicated, strict=True):
        if len(dup):
            if column == "head_id_number":
                raise SchemaError("a resident ID number heads more than one household", table=table,
                                  columns=[column], count=int(dup.sum() - len(dup)), problem="duplicate_head")
            raise SchemaError("duplicate key", table=table, columns=[column], keys=sorted(map(str, dup.index))[:20],
                              count=int(dup.sum()), problem="duplicate_key")
    return True


def _features_of_keyed(checked: bool, *frames: pd.DataFrame, names: Sequence[str],
                       dtypes: Mapping[str, Mapping[str, Any]], subject_type: str, as_of: pd.Timestamp
                       ) -> pd.DataFrame:
    """The partition function on shuffled tables: restore input order and dtypes, then build."""
    bundle = {}
    for name, df in zip(names, frames, strict=True):
        df = df.reset_index(drop=True).sort_values(_ROW, kind="stable")
        df = df.drop(columns=[c for c in _HELPERS if c in df.columns]).reset_index(drop=True)
        changed = {c: d for c, d in dtypes[name].items() if c in df.columns and df[c].dtype != d}
        bundle[name] = df.astype(changed) if changed else df
    return features_partition(bundle, subject_type, as_of)

