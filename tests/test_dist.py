"""ruralcredit.dist: subject partitioning, exact equality with the single-machine path, Dask, errors."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralcredit import dist
from ruralcredit.errors import InputError, ModelError, SchemaError
from ruralcredit.features import build_features
from ruralcredit.models import ExpertScorecard
from ruralcredit.schema import SUBJECT_TYPES

dask = pytest.importorskip("dask")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

SETTINGS = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def county():
    from ruralcredit.synth import make_county

    return make_county(households=1200, seed=3)


@pytest.fixture(scope="module")
def single(county):
    """The single-machine features of every subject type: the reference."""
    return {t: build_features(county, t, county.as_of) for t in SUBJECT_TYPES}


@pytest.fixture(scope="module")
def client():
    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    with dask.config.set({"dataframe.shuffle.method": "tasks"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def _assert_exact(got, expected, **kwargs):
    """Equal to the last bit (assert_frame_equal compares floats with a tolerance by default)."""
    pd.testing.assert_frame_equal(got, expected, check_exact=True, **kwargs)


def _gathered(bundles, subject_type, as_of):
    parts = [dist.features_partition(b, subject_type, as_of) for b in bundles]
    return dist.to_pandas(pd.concat(parts, ignore_index=True))


# ------------------------------------------------------------------------------------------- partition_of


def test_partition_of_is_stable_across_dtypes_order_and_calls():
    ids = [f"HH{i:07d}" for i in range(500)]
    base = dist.partition_of(ids, 7)
    assert base.dtype == np.int64 and base.min() >= 0 and base.max() <= 6
    assert len(set(base.tolist())) == 7  # 500 ids spread over every partition
    for dtype in (object, "str", pd.StringDtype("pyarrow", na_value=pd.NA)):
        assert dist.partition_of(pd.Series(ids, dtype=dtype), 7).tolist() == base.tolist()
    rev = dist.partition_of(ids[::-1], 7)
    assert rev[::-1].tolist() == base.tolist()  # a subject's partition does not depend on its neighbours
    # the index of a Series plays no part
    assert dist.partition_of(["HH0000001", "FF0001", "P000042"], 7).tolist() == \
        dist.partition_of(pd.Series(["HH0000001", "FF0001", "P000042"], index=[9, 3, 5]), 7).tolist()
    assert dist.partition_of(["a", "b", "c", "d"], 1).tolist() == [0, 0, 0, 0]


def test_partition_of_pinned_values():
    # SipHash-2-4 with pandas' fixed key: if a pandas release changed it, subjects would move between
    # the partitions of clusters running different versions
    assert dist.partition_of(["HH0000001", "HH0000002", "FF000001", "P0000001"], 1000).tolist() == \
        [648, 415, 926, 395]


@given(ids=st.lists(st.text(min_size=1, max_size=12), min_size=0, max_size=60, unique=True),
       n=st.integers(min_value=1, max_value=16))
@settings(max_examples=40, deadline=None)
def test_every_id_gets_exactly_one_partition_in_range(ids, n):
    parts = dist.partition_of(ids, n)
    assert len(parts) == len(ids)
    assert ((parts >= 0) & (parts < n)).all()
    assert dist.partition_of(ids, n).tolist() == parts.tolist()


@pytest.mark.parametrize("bad", [0, -1, 2.0, "3", True, None])
def test_partition_of_refuses_bad_counts(bad):
    with pytest.raises(InputError) as err:
        dist.partition_of(["a"], bad)
    assert err.value.argument == "n_partitions"


def test_partition_of_refuses_missing_or_non_text_ids():
    with pytest.raises(InputError):
        dist.partition_of(pd.Series(["a", None]), 3)
    with pytest.raises(InputError):
        dist.partition_of([1, 2, 3], 3)


# ------------------------------------------------------------------------------------------- pandas bundles


@pytest.mark.parametrize(("subject_type", "n"), [(t, 4) for t in SUBJECT_TYPES] + [("household", 1), ("cooperative", 9)])
def test_bundles_give_the_single_machine_features_exactly(county, single, subject_type, n):
    bundles = dist.partition_tables(county, subject_type, n)
    assert len(bundles) == n
    got = _gathered(bundles, subject_type, county.as_of)
    _assert_exact(got, single[subject_type])


@SETTINGS
@given(n=st.integers(min_value=1, max_value=12))
def test_every_subject_lands_in_exactly_one_bundle(county, n):
    bundles = dist.partition_tables(county, "household", n)
    seen = pd.concat([b["households"]["subject_id"] for b in bundles], ignore_index=True)
    assert not seen.duplicated().any()
    assert sorted(seen) == sorted(county.households["subject_id"])
    expected = dist.partition_of(county.households["subject_id"], n)
    where = dict(zip(county.households["subject_id"], expected.tolist(), strict=True))
    for i, b in enumerate(bundles):
        assert all(where[s] == i for s in b["households"]["subject_id"])
        # a loan meets its borrower; an instalment meets its loan
        assert set(b["repayments"]["loan_id"]) <= set(b["loans"]["loan_id"])
        mine = b["loans"]["borrower_id"].isin(b["households"]["subject_id"])
        assert set(b["repayments"]["loan_id"]) <= set(b["loans"].loc[mine, "loan_id"])


def test_guaranteed_loans_travel_to_the_guarantors_bundle(county, single):
    n = 5
    bundles = dist.partition_tables(county, "household", n)
    loans = county.loans.set_index("loan_id")["borrower_id"]
    g = county.guarantees
    hh = set(county.households["subject_id"])
    part = dict(zip(county.households["subject_id"],
                    dist.partition_of(county.households["subject_id"], n).tolist(), strict=True))
    cross = g[g["guarantor_id"].isin(hh) & g["loan_id"].map(loans).isin(hh)]
    cross = cross[cross["guarantor_id"].map(part) != cross["loan_id"].map(loans).map(part)]
    assert len(cross) > 0  # the county has guarantees across partitions
    for row in cross.itertuples():
        b = bundles[part[row.guarantor_id]]
        assert row.loan_id in set(b["loans"]["loan_id"])
        assert row.guarantee_id in set(b["guarantees"]["guarantee_id"])
        # but the loan's instalments stay with its borrower only
        assert row.loan_id not in set(b["repayments"]["loan_id"])
    # and no loan appears twice in one bundle
    for b in bundles:
        assert not b["loans"]["loan_id"].duplicated().any()
    assert single["household"]["guarantees_given"].fillna(0).gt(0).any()


def test_legal_representatives_records_travel_with_their_entity(county, single):
    bundles = dist.partition_tables(county, "family_farm", 4)
    for b in bundles:
        reps = b["roles"]
        assert set(reps["enterprise_id"]) <= set(b["enterprises"]["subject_id"])
        assert set(reps["person_id"]) <= set(b["persons"]["person_id"])
        assert set(b["persons"]["household_id"].dropna()) <= set(b["households"]["subject_id"])
    # the features that read them are not all missing, so the test exercises them
    assert single["family_farm"]["legal_rep_bad_credit_5y"].notna().any()
    assert single["professional_manager"]["managed_land_mu"].fillna(0).gt(0).any()


def _reps_known_only_as_heads(county):
    """Legal representatives whose person record names no household: only their ID number links them."""
    tables = dict(county.tables)
    roles = county.roles
    reps = roles.loc[roles["role"] == "legal_representative", "person_id"]
    persons = county.persons.copy()
    persons.loc[persons["person_id"].isin(reps), "household_id"] = None
    tables["persons"] = persons
    return tables


@pytest.mark.parametrize("subject_type", ["family_farm", "cooperative"])
def test_representatives_households_found_by_their_id_number(county, subject_type):
    tables = _reps_known_only_as_heads(county)
    ref = build_features(tables, subject_type, county.as_of)
    assert ref["legal_rep_bad_credit_5y"].notna().any()  # the head link is what finds them
    _assert_exact(_gathered(dist.partition_tables(tables, subject_type, 3), subject_type, county.as_of), ref)


def test_only_the_tables_features_read_are_shipped(county):
    for subject_type in SUBJECT_TYPES:
        needed = set(dist.tables_needed(subject_type))
        for b in dist.partition_tables(county, subject_type, 2):
            assert set(b) <= needed
            assert {"contacts", "transactions", "villages", "subsidies"}.isdisjoint(b)


def _order_sensitive_county(county):
    """A household without loans gets three loans whose balances sum differently in another order."""
    tables = {k: v.copy() for k, v in county.tables.items()}
    loans = tables["loans"]
    borrowers = set(loans["borrower_id"]) | set(tables["guarantees"]["guarantor_id"])
    lonely = next(s for s in tables["households"]["subject_id"] if s not in borrowers)
    template = loans.iloc[[0]]
    new = []
    for i, balance in enumerate((0.1, 0.2, 0.3)):
        row = template.assign(loan_id=f"ORDER{i}", borrower_id=lonely, borrower_type="household", amount=1.0,
                              balance=balance, overdue_days=0, five_class="normal", closed_date=pd.NaT,
                              issue_date=pd.Timestamp("2025-01-01"), snapshot_date=pd.Timestamp("2026-01-31"),
                              maturity_date=pd.Timestamp("2027-01-01"))
        new.append(row)
    third = len(loans) // 3
    tables["loans"] = pd.concat([new[0], loans.iloc[:third], new[1], loans.iloc[third:], new[2]],
                                ignore_index=True)
    return tables, lonely


def test_sums_keep_the_single_machine_order(county):
    # (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1 in floating point: a bundle that reorders a subject's
    # loans would change its bank debt in the last bit
    assert (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1
    tables, lonely = _order_sensitive_county(county)
    ref = build_features(tables, "household", county.as_of)
    expected = ref.loc[ref["subject_id"] == lonely, "bank_debt"].item()
    assert expected == (0.1 + 0.2) + 0.3
    for n in (2, 5):
        got = _gathered(dist.partition_tables(tables, "household", n), "household", county.as_of)
        _assert_exact(got, ref)


# ------------------------------------------------------------------------------------------- Dask


@pytest.mark.parametrize("subject_type", ["household", "family_farm"])
@pytest.mark.parametrize("n", [1, 3, 7])
def test_dask_equals_single_machine(client, county, single, subject_type, n):
    ddf = dist.build_features_dask(county, subject_type, county.as_of, npartitions=n, client=client)
    assert isinstance(ddf, dd.DataFrame) and ddf.npartitions == n
    got = dist.to_pandas(ddf)
    assert not got["subject_id"].duplicated().any()
    _assert_exact(got, single[subject_type])


def test_without_a_distributed_client_the_graph_carries_the_bundles(county, single, monkeypatch):
    monkeypatch.setattr(dist, "_current_client", lambda: None)
    ddf = dist.build_features_dask(county, "household", county.as_of, npartitions=3)
    with dask.config.set(scheduler="threads"):
        _assert_exact(dist.to_pandas(ddf), single["household"])


def test_dask_meta_matches_the_computed_frame(client, county, single):
    ddf = dist.build_features_dask(county, "cooperative", county.as_of, npartitions=2)  # the current client
    assert list(ddf.columns) == list(single["cooperative"].columns)
    assert ddf.dtypes.to_dict() == single["cooperative"].dtypes.to_dict()


@pytest.mark.parametrize("subject_type", ["household", "family_farm", "professional_manager"])
def test_dask_tables_equal_single_machine(client, county, subject_type):
    # Dask tables in (as read from Parquet): keyed and shuffled on the cluster, never gathered; some
    # representatives are found only by their ID number
    tables = _reps_known_only_as_heads(county)
    ref = build_features(tables, subject_type, county.as_of)
    dtables = {k: dd.from_pandas(v, npartitions=1) for k, v in tables.items()}
    ddf = dist.build_features_dask(dtables, subject_type, county.as_of, npartitions=3)
    _assert_exact(dist.to_pandas(ddf), ref)


def test_dask_tables_keep_the_order_of_sums(client, county):
    tables, _ = _order_sensitive_county(county)
    ref = build_features(tables, "household", county.as_of)
    dtables = {k: dd.from_pandas(v, npartitions=3) for k, v in tables.items()
               if k in dist.tables_needed("household")}
    got = dist.to_pandas(dist.build_features_dask(dtables, "household", county.as_of, npartitions=2))
    _assert_exact(got, ref)


def test_dask_tables_report_a_loan_id_split_across_borrowers(client, county):
    loans = county.loans.copy()
    loans.loc[1, "loan_id"] = loans.loc[0, "loan_id"]  # same id, two borrowers: partitions cannot see it
    tables = {**county.tables, "loans": loans}
    with pytest.raises(SchemaError, match="duplicate key|duplicate"):
        build_features(tables, "household", county.as_of)
    dtables = {k: dd.from_pandas(v, npartitions=2) for k, v in tables.items()}
    ddf = dist.build_features_dask(dtables, "household", county.as_of, npartitions=2)
    with pytest.raises(SchemaError) as err:
        ddf.compute()
    assert err.value.table == "loans" and err.value.problem == "duplicate_key"


def test_dask_tables_report_contract_breaches_on_compute(client, county):
    repayments = county.repayments.copy()
    repayments.loc[5, "loan_id"] = "NO-SUCH-LOAN"  # an orphan instalment
    dtables = {k: dd.from_pandas(v, npartitions=1) for k, v in {**county.tables, "repayments": repayments}.items()}
    ddf = dist.build_features_dask(dtables, "household", county.as_of, npartitions=2)
    with pytest.raises(SchemaError) as err:
        ddf.compute()
    assert err.value.table == "repayments" and err.value.problem == "reference"


def test_scores_equal_single_machine(client, county, single):
    card = ExpertScorecard("household", as_of=county.as_of).fit()
    expected = card.score(single["household"].assign(blacklisted=False))
    ddf = dist.build_features_dask(county, "household", county.as_of, npartitions=3).assign(blacklisted=False)
    scored = dist.score_dask(ddf, card)
    assert list(scored.columns) == list(expected.columns)
    got = dist.to_pandas(scored)
    # value for value; the categories of data-dependent texts (vetoes, missing) are a union over partitions
    _assert_exact(got, expected, check_categorical=False)
    assert [str(d) for d in got.dtypes] == [str(d) for d in expected.dtypes]
    assert got["grade"].cat.categories.tolist() == expected["grade"].cat.categories.tolist()  # fixed scale


def test_statistical_scorecard_scores_equal_too(client, county, single):
    from ruralcredit.models import Scorecard

    feats = single["household"]
    cols = ["subject_id", "debt_to_income", "on_time_ratio_24m", "income_per_capita", "max_overdue_days_24m"]
    truth = county.truth["defaults"].set_index("subject_id")["default_12m"]
    y = feats["subject_id"].map(truth).fillna(False).astype(int).to_numpy()
    card = Scorecard().fit(feats[cols[1:]], y)
    expected = card.score(feats[cols])
    got = dist.to_pandas(dist.score_dask(dist.build_features_dask(county, "household", county.as_of,
                                                                  npartitions=3)[cols], card))
    _assert_exact(got, expected)


# ------------------------------------------------------------------------------------------- errors


def test_bad_inputs_raise_typed_errors(county):
    with pytest.raises(InputError) as err:
        dist.partition_tables(county, "farmer", 3)
    assert err.value.argument == "subject_type"
    with pytest.raises(InputError):
        dist.partition_tables(county, "household", 0)
    with pytest.raises(InputError):
        dist.partition_tables([county.households], "household", 2)
    with pytest.raises(SchemaError) as err:
        dist.partition_tables({"households": county.households, "loans": county.loans}, "household", 2)
    assert err.value.problem == "missing_table" and err.value.table == "repayments"
    bad = county.loans.copy()
    bad.loc[3, "amount"] = -5.0
    with pytest.raises(SchemaError) as err:
        dist.partition_tables({**county.tables, "loans": bad}, "household", 2)
    assert err.value.table == "loans" and err.value.problem == "range"
    with pytest.raises(SchemaError) as err:
        dist.partition_tables({**county.tables, "households": county.households.assign(__rc_row=1)},
                              "household", 2)
    assert err.value.problem == "reserved_column"
    with pytest.raises(SchemaError) as err:
        dist.partition_tables({**county.tables, "loans": "loans.parquet"}, "household", 2)
    assert err.value.table == "loans"
    with pytest.raises(InputError):
        dist.tables_needed("village")


def test_bad_dask_inputs_raise_typed_errors(county):
    with pytest.raises(InputError) as err:
        dist.build_features_dask(county, "household", "2026-13-01", npartitions=2)
    assert err.value.argument == "as_of"
    with pytest.raises(InputError) as err:
        dist.build_features_dask(county, "household", county.as_of, npartitions=-2)
    assert err.value.argument == "npartitions"
    with pytest.raises(SchemaError) as err:  # a bad table fails before anything is shipped
        dist.build_features_dask({**county.tables, "households": county.households.drop(columns=["size"])},
                                 "household", county.as_of, npartitions=2)
    assert err.value.problem == "missing_columns"
    dtables = {k: dd.from_pandas(v, npartitions=1) for k, v in county.tables.items()}
    with pytest.raises(SchemaError) as err:
        dist.build_features_dask({**dtables, "loans": dtables["loans"].drop(columns=["amount"])}, "household",
                                 county.as_of, npartitions=2)
    assert err.value.table == "loans" and err.value.problem == "missing_columns"
    with pytest.raises(SchemaError) as err:
        dist.build_features_dask({**dtables, "loans": [1, 2]}, "household", county.as_of, npartitions=2)
    assert err.value.problem == "type"
    with pytest.raises(InputError):
        dist.score_dask(county.households, ExpertScorecard("household", as_of=county.as_of).fit())
    with pytest.raises(InputError):
        dist.to_pandas([1, 2, 3])


def test_score_dask_refuses_a_scorer_it_cannot_use(county):
    ddf = dist.build_features_dask(county, "household", county.as_of, npartitions=2)
    with pytest.raises(ModelError):
        dist.score_dask(ddf, object())
    card = ExpertScorecard("household", as_of=county.as_of).fit()
    with pytest.raises(ModelError, match="blacklisted"):  # found before computing anything
        dist.score_dask(ddf, card)
    with pytest.raises(InputError) as err:
        dist.to_pandas(ddf, sort_by="score")
    assert err.value.argument == "sort_by"
