"""CaseBook: the state machine, recurring warnings, the event chain, persistence across processes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from ruralcredit.errors import CaseError, InputError
from ruralcredit.risk.cases import ACTIONS, CASE_STATES, FINAL_STATES, CaseBook
from ruralcredit.store import open_store

AS_OF = pd.Timestamp("2026-06-30")


def _warning(wid: str, subject: str = "H1", category: str = "illegal_fundraising", severity: str = "yellow",
             rule: str = "fundraising_depositors", as_of: pd.Timestamp = AS_OF) -> dict:
    return {"warning_id": wid, "as_of": as_of, "subject_id": subject, "subject_type": "household", "rule_id": rule,
            "signal": "small_payer_inflows", "kind": "rule", "category": category, "severity": severity,
            "value": 31.0, "threshold": 30.0, "text_zh": "文本", "text_en": "text",
            "evidence": {"value": 31, "window_from": "2026-01-02", "payers": ["a", "b"]},
            "policy_id": "early-warning", "policy_version": "2022.1", "policy_hash": "0" * 64}


def _frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


class _Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.t += dt.timedelta(minutes=1)
        return self.t


@pytest.fixture()
def book() -> CaseBook:
    return CaseBook(open_store("sqlite://", clock=_Clock()))


def _open_one(book: CaseBook, wid: str = "W1") -> str:
    out = book.open_cases(_frame(_warning(wid)), by="system")
    return out["case_id"].iloc[0]


def test_open_join_and_record_once(book: CaseBook) -> None:
    out = book.open_cases(_frame(_warning("W1"), _warning("W2", rule="fundraising_amount", severity="red"),
                                 _warning("W3", subject="H2")), by="system")
    assert out["outcome"].tolist() == ["opened", "joined", "opened"]
    assert out["case_id"].iloc[0] == out["case_id"].iloc[1] != out["case_id"].iloc[2]
    again = book.open_cases(_frame(_warning("W1"), _warning("W4", as_of=AS_OF + pd.Timedelta(days=7))), by="system")
    assert again["outcome"].tolist() == ["recorded", "joined"]  # a recurrence joins the open case
    case = book.get(out["case_id"].iloc[0])
    assert case.n_warnings == 3 and case.severity == "red" and case.state == "new"
    other_pattern = book.open_cases(_frame(_warning("W5", category="malicious_evasion")), by="system")
    assert other_pattern["outcome"].tolist() == ["opened"]
    assert len(book.cases()) == 3
    stored = book.warnings(case.case_id)
    assert stored["warning_id"].tolist() == ["W1", "W2", "W4"]
    assert '"payers":["a","b"]' in stored["evidence"].iloc[0]


def test_a_closed_case_does_not_absorb_a_recurrence(book: CaseBook) -> None:
    cid = _open_one(book)
    book.dismiss(cid, by="analyst", note="member share capital, not fundraising")
    out = book.open_cases(_frame(_warning("W9")), by="system")
    assert out["outcome"].tolist() == ["opened"] and out["case_id"].iloc[0] != cid


def test_full_path_to_the_authorities(book: CaseBook) -> None:
    cid = _open_one(book)
    assert book.monitor(cid, by="a").state == "monitoring"
    assert book.assign(cid, "wang", by="lead").assignee == "wang"
    assert book.analyse(cid, by="wang").state == "analysis"
    assert book.verify_risk(cid, by="wang", note="ledgers checked").state == "verified"
    assert book.interview(cid, by="wang", note="chair interviewed").state == "interview"
    case = book.transfer(cid, by="lead", note="handed to the county financial office")
    assert case.state == "transferred_to_authorities" and not case.is_open and case.assignee == "wang"
    assert book.add_note(cid, "police acknowledged", by="lead").state == "transferred_to_authorities"
    hist = book.history(cid)
    assert hist["action"].tolist() == ["open", "monitor", "assign", "analyse", "verify", "interview", "transfer", "note"]
    assert hist["recorded_at"].is_monotonic_increasing
    events = book.store.events(entity_id=cid)
    assert events["kind"].tolist() == ["case.opened", "case.warning_opened", "case.monitor", "case.assign",
                                       "case.analyse", "case.verify", "case.interview", "case.transfer", "case.note"]
    assert book.verify().ok


_PATHS = {"new": [], "monitoring": ["monitor"], "analysis": ["analyse"], "verified": ["analyse", "verify"],
          "interview": ["analyse", "verify", "interview"],
          "transferred_to_authorities": ["analyse", "verify", "transfer"],
          "closed_false_alarm": ["dismiss"], "closed_resolved": ["analyse", "resolve"]}


def _reach(book: CaseBook, state: str) -> str:
    n = len(book.cases())
    cid = book.open_cases(_frame(_warning(f"W{n}", subject=f"S{n}")), by="system")["case_id"].iloc[0]
    for action in _PATHS[state]:
        book.move(cid, action, by="a", note="why")
    assert book.get(cid).state == state
    return cid


@pytest.mark.parametrize("state", CASE_STATES)
def test_only_allowed_transitions(book: CaseBook, state: str) -> None:
    """From every state, exactly the actions of the state machine are accepted; the rest raise CaseError."""
    cid = _reach(book, state)
    for action, (sources, target) in ACTIONS.items():
        if state in sources:
            fresh = _reach(book, state)
            assert book.move(fresh, action, by="b", note="why").state == target
        else:
            with pytest.raises(CaseError) as err:
                book.move(cid, action, by="b", note="why")
            assert err.value.case_id == cid and err.value.state == state and err.value.action == action
            assert cid in str(err.value) and state in str(err.value) and action in str(err.value)
    assert book.get(cid).state == state  # nothing written by the refused actions
    assert len(book.history(cid)) == 1 + len(_PATHS[state])
    cid = _reach(book, state)
    if state in FINAL_STATES:
        with pytest.raises(CaseError):
            book.assign(cid, "li", by="b")
    else:
        assert book.assign(cid, "li", by="b").assignee == "li"
    assert book.add_note(cid, "seen", by="b").state == state


def test_bad_arguments(book: CaseBook) -> None:
    cid = _open_one(book)
    with pytest.raises(CaseError):
        book.monitor("C-nope", by="a")
    with pytest.raises(InputError):
        book.move(cid, "teleport", by="a")
    with pytest.raises(InputError):
        book.dismiss(cid, by="a", note="")
    with pytest.raises(InputError):
        book.monitor(cid, by="")
    with pytest.raises(InputError):
        book.move(cid, "assign", by="a")
    with pytest.raises(InputError):
        book.open_cases(pd.DataFrame({"warning_id": ["x"]}), by="a")
    with pytest.raises(InputError):
        book.cases(state="limbo")
    with pytest.raises(InputError):
        CaseBook("sqlite://")


def test_tampering_is_detected(tmp_path: Path) -> None:
    store = open_store(tmp_path / "cases.db")
    book = CaseBook(store)
    cid = _open_one(book)
    book.dismiss(cid, by="a", note="false alarm")
    assert book.verify().ok
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE events SET payload = replace(payload, 'false alarm', 'real') "
                          "WHERE kind = 'case.dismiss'"))
    assert not book.verify().ok
    store.close()


def test_cases_survive_a_restart(tmp_path: Path) -> None:
    """A case opened and moved in one process is there, with its history, in the next."""
    db = tmp_path / "cases.db"
    script = textwrap.dedent(f"""
        import pandas as pd
        from ruralcredit.risk.cases import CaseBook
        from ruralcredit.store import open_store
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_risk_cases import _frame, _warning
        book = CaseBook(open_store({str(db)!r}))
        cid = book.open_cases(_frame(_warning("W1")), by="system")["case_id"].iloc[0]
        book.analyse(cid, by="wang")
        book.assign(cid, "wang", by="lead")
        print(cid)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    cid = done.stdout.strip().splitlines()[-1]
    store = open_store(db)
    book = CaseBook(store)
    case = book.get(cid)
    assert case.state == "analysis" and case.assignee == "wang" and case.n_warnings == 1
    assert book.open_cases(_frame(_warning("W2")), by="system")["case_id"].tolist() == [cid]  # joins it
    assert book.verify_risk(cid, by="wang").state == "verified"
    assert book.history(cid)["action"].tolist() == ["open", "analyse", "assign", "verify"]
    assert book.verify().ok
    store.close()


def test_scan_warnings_open_cases() -> None:
    from ruralcredit.risk import scan
    from ruralcredit.synth import make_county

    county = make_county(households=300, seed=1)
    w = scan(county, as_of=county.as_of, input_hash=False)
    book = CaseBook(open_store("sqlite://"))
    out = book.open_cases(w, by="system")
    keys = w[["subject_type", "subject_id", "category"]].drop_duplicates()
    assert (out["outcome"] == "opened").sum() == len(keys) == len(book.cases())
    assert book.verify().ok


def test_state_machine_is_the_documented_one() -> None:
    assert ACTIONS == {
        "monitor": (("new",), "monitoring"),
        "analyse": (("new", "monitoring"), "analysis"),
        "verify": (("analysis",), "verified"),
        "interview": (("verified",), "interview"),
        "transfer": (("verified", "interview"), "transferred_to_authorities"),
        "resolve": (("analysis", "verified", "interview"), "closed_resolved"),
        "dismiss": (("new", "monitoring", "analysis"), "closed_false_alarm"),
    }
    assert FINAL_STATES == ("transferred_to_authorities", "closed_false_alarm", "closed_resolved")
