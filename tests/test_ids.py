"""Tests of ruralcredit.ids: DOMAIN.md vectors, check-character guarantees, vector/scalar agreement."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ruralcredit import ids
from ruralcredit.errors import IdentifierError, RuralCreditError

# ----------------------------------------------------------------------------------------------------------
# Independent reference implementations (straight from DOMAIN.md, not from the module)
# ----------------------------------------------------------------------------------------------------------

RID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def ref_rid_check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, RID_WEIGHTS, strict=True)) % 11]


def ref_rid_residue(number: str) -> int:
    """ISO 7064 MOD 11-2 as a pure system: sum of a_i * 2^(18-i) over all 18 positions; valid iff 1."""
    vals = [10 if c == "X" else int(c) for c in number]
    return sum(v * pow(2, 17 - i, 11) for i, v in enumerate(vals)) % 11


def ref_uscc_residue(code: str) -> int:
    """GB 32100: sum of weighted positions 1-17 plus the check value; valid iff 0 (mod 31)."""
    vals = [USCC_ALPHABET.index(c) for c in code]
    return (sum(v * w for v, w in zip(vals[:17], USCC_WEIGHTS, strict=True)) + vals[17]) % 31


def with_rid_check(first17: str) -> str:
    return first17 + ref_rid_check(first17)


def with_uscc_check(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_ALPHABET[(31 - total % 31) % 31]


RID_VALID = ["11010519491231002X", "440524188001010014", "360426199101010071", "120103198806018241"]
RID_INVALID = ["360426199101010072", "110105194912310021"]
USCC_VALID = [
    "91110000600037341L",
    "91110108551385082Q",
    "91370000728611939A",
    "531000005000160090",
    "52410000663412719U",
    "121200004013590816",
    "92340602MA2PBMEM24",
]
USCC_INVALID = ["91110108551385082F", "91110000600037341N"]
TODAY = date(2025, 6, 30)


def reason_of(func, value, **kw) -> str:
    with pytest.raises(IdentifierError) as info:
        func(value, **kw)
    return info.value.reason


# ----------------------------------------------------------------------------------------------------------
# Resident ID numbers: vectors, parsing, reasons
# ----------------------------------------------------------------------------------------------------------


def test_weights_are_the_documented_ones():
    assert RID_WEIGHTS == [pow(2, 18 - i, 11) for i in range(1, 18)]
    assert USCC_WEIGHTS == [pow(3, i - 1, 31) for i in range(1, 18)]
    assert list(ids._RID_WEIGHTS) == RID_WEIGHTS
    assert list(ids._USCC_WEIGHTS) == USCC_WEIGHTS


@pytest.mark.parametrize("number", RID_VALID)
def test_domain_valid_resident_ids(number):
    assert ids.is_resident_id(number)
    assert ids.is_resident_id(number, strict=True)
    assert ids.normalize_resident_id(number) == number
    assert ref_rid_residue(number) == 1


@pytest.mark.parametrize("number", RID_INVALID)
def test_domain_invalid_resident_ids(number):
    assert not ids.is_resident_id(number)
    assert reason_of(ids.normalize_resident_id, number) == "check"


def test_legacy_upgrade():
    assert ids.normalize_resident_id("110105491231002") == "11010519491231002X"
    rid = ids.parse_resident_id("110105491231002")
    assert rid.legacy and rid.number == "11010519491231002X"
    assert rid.birth_date == date(1949, 12, 31)
    assert not ids.is_resident_id("110105491231002", strict=True)
    assert reason_of(ids.normalize_resident_id, "11010549123100A") == "characters"


def test_lowercase_x_and_whitespace():
    assert ids.normalize_resident_id("11010519491231002x") == "11010519491231002X"
    assert ids.normalize_resident_id("\u3000 11010519491231002X\t\n") == "11010519491231002X"
    assert ids.is_resident_id(" 11010519491231002x ")
    assert not ids.is_resident_id("11010519491231002x", strict=True)
    assert not ids.is_resident_id(" 11010519491231002X", strict=True)


def test_parse_fields():
    rid = ids.parse_resident_id("11010519491231002X")
    assert (rid.address_code, rid.birth_date, rid.sequence, rid.gender) == (
        "110105",
        date(1949, 12, 31),
        "002",
        "female",
    )
    assert not rid.is_foreign_permanent and not rid.legacy
    other = ids.parse_resident_id("440524188001010014")
    assert other.gender == "male" and other.birth_date == date(1880, 1, 1) and other.address_code == "440524"
    foreign = ids.parse_resident_id(ids.make_resident_id("953840", date(1990, 5, 17), 11))
    assert foreign.is_foreign_permanent
    with pytest.raises(AttributeError):
        rid.number = "x"  # frozen


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1234", "length"),
        ("", "length"),
        ("1101051949123100", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123X002X", "characters"),
        ("11010519491231002A", "characters"),
        ("\uff11\uff11010519491231002X", "characters"),  # full-width digits
        ("\u0661\u0661010519491231002X", "characters"),  # Arabic-Indic digits (str.isdigit is True)
        (with_rid_check("11010519490230002"), "birth_date"),  # Feb 30
        (with_rid_check("11010519491301002"), "birth_date"),  # month 13
        (with_rid_check("11010519490000002"), "birth_date"),
        (with_rid_check("11010500000101002"), "birth_date"),  # year 0
        (with_rid_check("11010529990101002"), "future_birth_date"),
        (11010519491231002, "type"),
        (b"11010519491231002X", "type"),
        (None, "type"),
    ],
)
def test_resident_id_reasons(value, reason):
    assert reason_of(ids.normalize_resident_id, value) == reason
    assert not ids.is_resident_id(value)


def test_non_str_never_accepted():
    assert not ids.is_resident_id(440524188001010014)
    assert ids.is_resident_id(np.str_("440524188001010014"))  # numpy's str subclass is a str
    with pytest.raises(IdentifierError) as info:
        ids.parse_resident_id(440524188001010014)
    assert info.value.kind == "resident_id"


@pytest.mark.parametrize(
    ("first17", "valid"),
    [
        ("11010520000229001", True),  # 2000 is a leap year (divisible by 400)
        ("11010520040229001", True),
        ("11010520030229001", False),
        ("11010519000229001", False),  # 1900 is not (divisible by 100)
        ("11010521000229001", False),
    ],
)
def test_february_29(first17, valid):
    number = with_rid_check(first17)
    assert ids.is_resident_id(number, today=TODAY) is valid
    assert bool(ids.validate_resident_ids(pd.Series([number]), today=TODAY).iloc[0]) is valid


def test_legacy_february_29_of_1900_is_invalid():
    assert reason_of(ids.normalize_resident_id, "110105000229001") == "birth_date"
    assert ids.normalize_resident_id("110105040229001") == with_rid_check("11010519040229001")


def test_future_birth_date_relative_to_today():
    number = with_rid_check("53011220240301001")
    assert not ids.is_resident_id(number, today=date(2024, 2, 29))
    assert reason_of(ids.normalize_resident_id, number, today=date(2024, 2, 29)) == "future_birth_date"
    assert ids.is_resident_id(number, today=date(2024, 3, 1))  # born today is fine
    mask = ids.validate_resident_ids(pd.Series([number, number]), today=date(2024, 2, 29))
    assert not mask.any()
    assert ids.validate_resident_ids(pd.Series([number]), today=date(2024, 3, 1)).all()


def test_today_must_be_a_date():
    with pytest.raises(RuralCreditError):
        ids.is_resident_id(RID_VALID[0], today="2024-01-01")
    number = with_rid_check("53011220240301001")
    assert ids.is_resident_id(number, today=pd.Timestamp("2024-03-01 08:00"))
    assert not ids.is_resident_id(number, today=pd.Timestamp("2024-02-29 23:59"))
    assert ids.validate_resident_ids([number], today=pd.Timestamp("2024-03-01")).all()


def test_make_resident_id():
    assert ids.make_resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    for bad in [
        ("11010", date(2000, 1, 1), 1),
        ("11010a", date(2000, 1, 1), 1),
        (110105, date(2000, 1, 1), 1),
    ]:
        assert reason_of(lambda v: ids.make_resident_id(*v), bad) == "address_code"
    assert reason_of(lambda v: ids.make_resident_id(*v), ("110105", date(2000, 1, 1), 1000)) == "sequence"
    assert reason_of(lambda v: ids.make_resident_id(*v), ("110105", date(2000, 1, 1), True)) == "sequence"
    assert reason_of(lambda v: ids.make_resident_id(*v), ("110105", "2000-01-01", 1)) == "birth_date"


# ----------------------------------------------------------------------------------------------------------
# Masking: everywhere a person reads
# ----------------------------------------------------------------------------------------------------------


def test_mask_resident_id():
    assert ids.mask_resident_id("53010219900101123X") == "530102********123X"
    assert ids.mask_resident_id("110105491231002") == "110105*****1002"
    assert ids.mask_resident_id("12345") == "*****"
    assert ids.mask_resident_id("garbage-but-long-text") == "garbag***********text"
    assert ids.mask_resident_id(None) == ""
    assert ids.mask_resident_id(float("nan")) == ""
    assert ids.mask_resident_id(11010519491231002) == "110105*******1002"
    assert ids.mask_resident_id(b"11010519491231002X") == "110105********002X"


MASK_CASES = [
    "360426199101010072",  # check
    with_rid_check("11010519490230002"),  # birth date
    with_rid_check("11010529990101002"),  # future
    "11010519491231002A",  # characters
    "110105194912310021",
    "\u0661\u0661\u0660\u0661\u0660\u0665\u0661\u0669\u0664\u0669\u0661\u0662\u0663\u0661\u0660\u0660\u0662X",
]


@pytest.mark.parametrize("raw", MASK_CASES)
def test_error_messages_never_show_the_number(raw):
    for func in (
        ids.normalize_resident_id,
        ids.parse_resident_id,
        ids.normalize_uscc,
        ids.parse_division_code,
    ):
        with pytest.raises(IdentifierError) as info:
            func(raw)
        text = str(info.value) + repr(info.value) + str(info.value.value)
        assert raw not in text
        assert raw[6:14] not in text  # the birth date
    with pytest.raises(IdentifierError) as info:
        ids.normalize_resident_ids(pd.Series(["440524188001010014", raw], index=["ok", "bad"]))
    text = str(info.value) + str(info.value.details)
    assert raw not in text and raw[6:14] not in text
    assert "'bad'" in str(info.value)


def test_repr_is_masked():
    rid = ids.parse_resident_id("11010519491231002X")
    assert "11010519491231002X" not in repr(rid) and "110105********002X" in repr(rid)
    assert "19491231" not in repr(rid) and "19491231" not in str(rid)


def test_pseudonymize_errors_are_masked():
    with pytest.raises(IdentifierError) as info:
        ids.pseudonymize("360426199101010072", b"k" * 32)
    assert "360426199101010072" not in str(info.value)
    with pytest.raises(IdentifierError) as info:
        ids.pseudonymize_series(pd.Series(["360426199101010072"]), b"k" * 32)
    assert "360426199101010072" not in str(info.value) + str(info.value.details)


def test_mask_resident_ids_vectorised():
    s = pd.Series(["53010219900101123X", None, "12", " 110105491231002 "], index=list("abcd"), name="id")
    out = ids.mask_resident_ids(s)
    assert list(out.index) == list("abcd") and out.name == "id"
    assert out["a"] == "530102********123X" and out["c"] == "**" and out["d"] == "110105*****1002"
    assert pd.isna(out["b"])
    mixed = ids.mask_resident_ids(pd.Series(["53010219900101123X", 11010519491231002, b"abc"], dtype=object))
    assert list(mixed) == ["530102********123X", "110105*******1002", "***"]


# ----------------------------------------------------------------------------------------------------------
# USCC
# ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", USCC_VALID)
def test_domain_valid_usccs(code):
    assert ids.is_uscc(code) and ids.is_uscc(code, strict=True)
    assert ids.is_uscc(code, check_org_code=True)  # every DOMAIN vector passes the GB 11714 check too
    assert ids.normalize_uscc(code.lower()) == code
    assert ids.parse_uscc(code).org_code_valid
    assert ref_uscc_residue(code) == 0


@pytest.mark.parametrize("code", USCC_INVALID)
def test_domain_invalid_usccs(code):
    assert not ids.is_uscc(code)
    assert reason_of(ids.normalize_uscc, code) == "check"


def test_parse_uscc_fields():
    u = ids.parse_uscc("92340602MA2PBMEM24")
    assert (u.authority, u.category, u.division_code, u.org_code) == ("9", "92", "340602", "MA2PBMEM2")
    assert u.authority_name == "industry and commerce" and u.category_name == "individual business"
    u = ids.parse_uscc("531000005000160090")
    assert u.category_name == "foundation" and u.authority_name == "civil affairs"
    u = ids.parse_uscc("121200004013590816")
    assert u.category_name == "public institution"


def test_letter_prefixed_usccs_are_accepted():
    village = ids.make_uscc("N2", "530112", "MA6K0ABC")
    assert ids.is_uscc(village, check_org_code=True)
    u = ids.parse_uscc(village)
    assert (u.authority, u.category, u.authority_name) == ("N", "N2", "agriculture")
    assert u.category_name == "village-level collective economic organisation"
    for prefix in ("N1", "N3", "N9", "A1", "Y1", "93", "51", "11", "19", "31"):
        code = ids.make_uscc(prefix, "530112", "12345678")
        assert ids.is_uscc(code), prefix
        assert ids.validate_usccs(pd.Series([code])).all()
    assert ids.parse_uscc(ids.make_uscc("19", "530112", "12345678")).category_name is None


def test_make_uscc_reproduces_a_real_code():
    assert ids.make_uscc("91", "110000", "60003734") == "91110000600037341L"
    assert ids.make_uscc("92", "340602", "MA2PBMEM") == "92340602MA2PBMEM24"


def test_org_code_check():
    good = "91110000600037341L"
    bad17 = with_uscc_check(good[:16] + "2")  # MOD 31 fixed up, organisation check broken
    assert ids.is_uscc(bad17) and not ids.is_uscc(bad17, check_org_code=True)
    assert reason_of(ids.normalize_uscc, bad17, check_org_code=True) == "org_code_check"
    assert not ids.parse_uscc(bad17).org_code_valid
    assert not ids.validate_usccs(pd.Series([bad17]), check_org_code=True).any()
    assert ids.validate_usccs(pd.Series([bad17])).all()
    # GB 11714 maps 10 -> X and 11 -> 0 at position 17
    bodies = {
        ids.make_uscc("91", "530112", body)[16] for body in ("00000001", "00000002", "0000000A", "1234567M")
    }
    assert bodies <= set("0123456789X")
    x_code = next(
        ids.make_uscc("91", "530112", f"{i:08d}")
        for i in range(200)
        if ids.make_uscc("91", "530112", f"{i:08d}")[16] == "X"
    )
    zero_code = next(
        ids.make_uscc("91", "530112", f"{i:08d}")
        for i in range(200)
        if ids.make_uscc("91", "530112", f"{i:08d}")[16] == "0"
    )
    assert ids.is_uscc(x_code, check_org_code=True) and ids.is_uscc(zero_code, check_org_code=True)
    # a wrong X or a wrong 0 at position 17 is caught too
    for code, wrong in ((good, "X"), (x_code, "0"), (zero_code, "X")):
        fixed = with_uscc_check(code[:16] + wrong)
        assert ids.is_uscc(fixed) and not ids.is_uscc(fixed, check_org_code=True)
        assert not ids.validate_usccs(pd.Series([fixed]), check_org_code=True).any()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("9111000060003734", "length"),
        ("91110000600037341I", "characters"),
        ("9111000060003734OL", "characters"),
        ("91110000600037341\u00e9", "characters"),
        ("91110000600037341\ufb00", "characters"),  # ligature ff: not uppercased into "FF"
        (with_uscc_check("01110000600037341"), "authority"),
        (with_uscc_check("B1110000600037341"), "authority"),
        (with_uscc_check("90110000600037341"), "category"),
        (with_uscc_check("9A110000600037341"), "category"),
        (with_uscc_check("91A10000600037341"), "division"),
        (91110000600037341, "type"),
    ],
)
def test_uscc_reasons(value, reason):
    assert reason_of(ids.normalize_uscc, value) == reason
    assert not ids.is_uscc(value)
    assert not ids.validate_usccs(pd.Series([value], dtype=object)).any()


def test_make_uscc_rejects_bad_parts():
    for args in [("0A", "530112", "12345678"), ("91", "53011", "12345678"), ("91", "530112", "1234567I")]:
        with pytest.raises(IdentifierError):
            ids.make_uscc(*args)
    with pytest.raises(IdentifierError):
        ids.make_usccs(["91", "B1"], "530112", "12345678")
    with pytest.raises(IdentifierError):
        ids.make_usccs("91", "530112", ["12345678", "1234567"])


# ----------------------------------------------------------------------------------------------------------
# Division codes
# ----------------------------------------------------------------------------------------------------------


def test_division_code_levels_and_parents():
    d = ids.parse_division_code("5301")
    assert (d.level, d.prefix, d.parents, d.prefecture_kind) == ("prefecture", "5301", ("53",), "city")
    d = ids.parse_division_code("530112")
    assert (d.level, d.parents, d.county, d.county_kind) == ("county", ("53", "5301"), "12", "district")
    d = ids.parse_division_code("530112101")
    assert (d.level, d.parents, d.township, d.township_type) == (
        "township",
        ("53", "5301", "530112"),
        "101",
        "town",
    )
    d = ids.parse_division_code("530112101201")
    assert d.level == "village" and d.parents == ("53", "5301", "530112", "530112101")
    assert (d.province, d.prefecture, d.county, d.township, d.village) == ("53", "01", "12", "101", "201")
    assert d.village_type == "villagers_committee" and d.urban_rural_class is None
    assert d.padded(12) == "530112101201"


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("53", "province", "53"),
        ("530000", "province", "53"),
        ("530100", "prefecture", "5301"),
        ("530112000000", "county", "530112"),
        ("530112101000", "township", "530112101"),
        ("530000000000", "province", "53"),
        ("530100000", "prefecture", "5301"),
    ],
)
def test_trailing_zeros_define_the_level(code, level, prefix):
    d = ids.parse_division_code(code)
    assert (d.level, d.prefix) == (level, prefix)
    assert ids.is_division_code(code, level=level)
    others = [x for x in ("province", "prefecture", "county", "township", "village") if x != level]
    assert not any(ids.is_division_code(code, level=x) for x in others)


@pytest.mark.parametrize(
    ("code", "attr", "expected"),
    [
        ("532300", "prefecture_kind", "prefecture"),  # Chuxiong Yi autonomous prefecture
        ("429004", "prefecture_kind", "province_administered"),
        ("429004", "county_kind", "province_administered"),
        ("530124", "county_kind", "county"),
        ("530181", "county_kind", "county_level_city"),
        ("530112001", "township_type", "subdistrict"),
        ("530112099", "township_type", "subdistrict"),
        ("530112199", "township_type", "town"),
        ("530112200", "township_type", "township"),
        ("530112399", "township_type", "township"),
        ("530112400", "township_type", "township_like"),
        ("530112600", "township_type", "other"),
        ("530112101001", "village_type", "residents_committee"),
        ("530112101199", "village_type", "residents_committee"),
        ("530112101200", "village_type", "villagers_committee"),
        ("530112101499", "village_type", "village_like"),
        ("530112101599", "village_type", "village_like"),
    ],
)
def test_division_kinds_by_range(code, attr, expected):
    assert getattr(ids.parse_division_code(code), attr) == expected


def test_urban_rural_class():
    d = ids.parse_division_code("530112101201220")
    assert d.code == "530112101201" and d.urban_rural_class == "220" and d.urban_rural_class_name == "village"
    assert ids.parse_division_code("530112001001111").urban_rural_class_name == "main urban area"
    assert reason_of(ids.parse_division_code, "530112101201999") == "urban_rural_class"
    assert reason_of(ids.parse_division_code, "530112101000220") == "urban_rural_class"  # not village level


def test_prefecture_level_city_without_counties():
    d = ids.parse_division_code("441900003000")  # Dongguan, Dongcheng subdistrict
    assert d.level == "township" and d.county is None and d.parents == ("44", "4419")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("001234", "province"),
        ("00", "province"),
        ("530012", "structure"),
        ("530012101201", "structure"),
        ("530112000201", "structure"),
        ("53011", "length"),
        ("5301120", "length"),
        ("5301a2", "characters"),
        ("", "characters"),
        ("\uff15\uff13\uff10\uff11\uff11\uff12", "characters"),
        (530112, "type"),
    ],
)
def test_division_code_rejects(value, reason):
    assert reason_of(ids.parse_division_code, value) == reason
    assert not ids.is_division_code(value)


def test_is_division_code_bad_level():
    with pytest.raises(RuralCreditError):
        ids.is_division_code("530112", level="city")
    with pytest.raises(IdentifierError):
        ids.parse_division_code("530112101").padded(6)


# ----------------------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------------------

address_codes = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
birth_dates = st.dates(min_value=date(1880, 1, 1), max_value=TODAY)
sequences = st.integers(0, 999)
valid_rids = st.builds(ids.make_resident_id, address_codes, birth_dates, sequences)
authority_categories = st.tuples(st.sampled_from("123456789ANY"), st.sampled_from("123456789")).map("".join)
divisions = st.from_regex(r"[0-9]{6}", fullmatch=True)
org_bodies = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)
valid_usccs = st.builds(ids.make_uscc, authority_categories, divisions, org_bodies)


@settings(deadline=None)
@given(valid_rids)
def test_generated_resident_ids_validate(number):
    assert ids.is_resident_id(number, today=TODAY, strict=True)
    assert ref_rid_residue(number) == 1
    assert ids.normalize_resident_id(number.lower(), today=TODAY) == number


@settings(deadline=None)
@given(address_codes, st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)), sequences)
def test_generated_legacy_ids_upgrade(address, born, seq):
    legacy = f"{address}{born:%y%m%d}{seq:03d}"
    assert ids.normalize_resident_id(legacy) == ids.make_resident_id(address, born, seq)


@settings(deadline=None)
@given(valid_usccs)
def test_generated_usccs_validate(code):
    assert ids.is_uscc(code, check_org_code=True, strict=True)
    assert ref_uscc_residue(code) == 0


# ----------------------------------------------------------------------------------------------------------
# Check-character guarantees
#
# MOD 11-2 (resident ID): sum a_i * 2^(18-i) = 1 (mod 11) over all 18 positions. 11 is prime and every
# weight 2^k is invertible mod 11, so (1) a substitution changes the sum by (b-a)*2^k != 0: always caught;
# (2) swapping positions i < j changes it by (a-b)*(2^(18-i) - 2^(18-j)), zero iff 2^(j-i) = 1 mod 11, i.e.
# j-i a multiple of 10 (2 has order 10 mod 11). So every adjacent transposition is caught, and every
# transposition except those exactly 10 apart (positions 1-11, ..., 8-18).
# MOD 31 (USCC): weights 3^(i-1) mod 31 for positions 1-17 and 1 for the check; 31 is prime, 3 has order
# 30, so the weights of positions 1..17 are distinct and only positions 1 and 18 share a weight (1).
# Every substitution and every adjacent transposition is caught; the one undetected transposition is 1<->18.
# ----------------------------------------------------------------------------------------------------------


def rid_alphabet(pos: int) -> str:
    return "0123456789X" if pos == 17 else "0123456789"


@pytest.mark.parametrize("number", RID_VALID)
def test_every_single_substitution_is_caught_exhaustive(number):
    for pos in range(18):
        for c in rid_alphabet(pos):
            if c != number[pos]:
                bad = number[:pos] + c + number[pos + 1 :]
                assert reason_of(ids.normalize_resident_id, bad) == "check", (pos, c)


@settings(deadline=None)
@given(valid_rids, st.integers(0, 17), st.data())
def test_single_substitution_is_caught(number, pos, data):
    c = data.draw(st.sampled_from([x for x in rid_alphabet(pos) if x != number[pos]]))
    bad = number[:pos] + c + number[pos + 1 :]
    assert not ids.is_resident_id(bad, today=TODAY)
    assert reason_of(ids.normalize_resident_id, bad, today=TODAY) == "check"
    assert not ids.validate_resident_ids(pd.Series([bad]), today=TODAY).any()


def swap(text: str, i: int, j: int) -> str:
    chars = list(text)
    chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


@settings(deadline=None)
@given(valid_rids, st.integers(0, 16))
def test_adjacent_transposition_is_caught(number, i):
    assume(number[i] != number[i + 1])
    bad = swap(number, i, i + 1)
    assert not ids.is_resident_id(bad, today=TODAY)
    # an X moved into position 17 is rejected as a bad character; every other case by the check
    expected = "characters" if "X" in bad[:17] else "check"
    assert reason_of(ids.normalize_resident_id, bad, today=TODAY) == expected


@settings(deadline=None)
@given(valid_rids, st.integers(0, 17), st.integers(0, 17))
def test_any_transposition_not_10_apart_is_caught(number, i, j):
    assume(i < j and j - i != 10 and number[i] != number[j] and "X" not in swap(number, i, j)[:17])
    assert reason_of(ids.normalize_resident_id, swap(number, i, j), today=TODAY) == "check"


@settings(deadline=None)
@given(valid_rids, st.integers(0, 7))
def test_transpositions_10_apart_are_not_caught_by_the_check(number, i):
    """The documented limit: positions i and i+10 carry the same weight mod 11."""
    bad = swap(number, i, i + 10)
    assume("X" not in bad[:17])
    assert ref_rid_residue(bad) == 1
    try:
        ids.normalize_resident_id(bad, today=TODAY)
    except IdentifierError as exc:  # may still fail on the birth date, never on the check
        assert exc.reason in ("birth_date", "future_birth_date")


@pytest.mark.parametrize("code", USCC_VALID)
def test_every_uscc_substitution_is_caught_exhaustive(code):
    for pos in range(18):
        for c in USCC_ALPHABET:
            if c != code[pos]:
                assert reason_of(ids.normalize_uscc, code[:pos] + c + code[pos + 1 :]) == "check"


@settings(deadline=None)
@given(valid_usccs, st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_uscc_single_substitution_is_caught(code, pos, c):
    assume(c != code[pos])
    bad = code[:pos] + c + code[pos + 1 :]
    assert reason_of(ids.normalize_uscc, bad) == "check"
    assert not ids.validate_usccs(pd.Series([bad])).any()


@settings(deadline=None)
@given(valid_usccs, st.integers(0, 16))
def test_uscc_adjacent_transposition_is_caught(code, i):
    assume(code[i] != code[i + 1])
    assert reason_of(ids.normalize_uscc, swap(code, i, i + 1)) == "check"


@settings(deadline=None)
@given(valid_usccs, st.integers(0, 17), st.integers(0, 17))
def test_uscc_any_transposition_but_first_last_is_caught(code, i, j):
    assume(i < j and (i, j) != (0, 17) and code[i] != code[j])
    assert reason_of(ids.normalize_uscc, swap(code, i, j)) == "check"


@settings(deadline=None)
@given(valid_usccs)
def test_uscc_first_last_transposition_is_not_caught_by_the_check(code):
    bad = swap(code, 0, 17)
    assert ref_uscc_residue(bad) == 0
    try:
        ids.normalize_uscc(bad)
    except IdentifierError as exc:  # may fail on structure (authority / category), never on the check
        assert exc.reason != "check"


# ----------------------------------------------------------------------------------------------------------
# Vectorised forms agree with the scalar ones
# ----------------------------------------------------------------------------------------------------------


def corrupt_rid(number: str, kind: int, pos: int, c: str) -> object:
    pos %= 18
    return [
        number,
        number[:pos] + c + number[pos + 1 :],
        swap(number, pos, (pos + 1) % 18),
        number[:pos],
        number[:6] + number[8:17],  # legacy form (valid only for 19xx births)
        number.lower(),
        f" {number}\u3000",
        number + c,
        None,
        float("nan"),
        int(number[:17]),
        number[:6] + "2999" + number[10:],
        number.replace("1", "\u0661"),
    ][kind]


rid_mixtures = st.lists(
    st.builds(
        corrupt_rid,
        valid_rids | st.sampled_from(RID_VALID),
        st.integers(0, 12),
        st.integers(0, 17),
        st.sampled_from(list("0123456789XxA ") + ["\u00e9", "\u3000", "\ufb00"]),
    )
    | st.text(max_size=20),
    max_size=40,
)


@settings(deadline=None, max_examples=150)
@given(rid_mixtures, st.booleans())
def test_vectorised_resident_ids_agree_with_scalar(values, strict):
    expected = [ids.is_resident_id(v, today=TODAY, strict=strict) for v in values]
    got = ids.validate_resident_ids(pd.Series(values, dtype=object), today=TODAY, strict=strict)
    assert got.tolist() == expected
    strings = [v for v in values if isinstance(v, str)]
    got_str = ids.validate_resident_ids(pd.Series(strings, dtype="string"), today=TODAY, strict=strict)
    assert got_str.tolist() == [ids.is_resident_id(v, today=TODAY, strict=strict) for v in strings]
    valid = [v for v, ok in zip(values, expected, strict=True) if ok and not strict]
    if valid:
        series = pd.Series(valid, index=[f"k{i}" for i in range(len(valid))])
        normalized = ids.normalize_resident_ids(series, today=TODAY)
        assert normalized.tolist() == [ids.normalize_resident_id(v, today=TODAY) for v in valid]
        assert list(normalized.index) == list(series.index)
        parsed = [ids.parse_resident_id(v, today=TODAY) for v in valid]
        births = ids.resident_id_birth_dates(series, today=TODAY)
        assert [b.date() for b in births] == [p.birth_date for p in parsed]
        assert ids.resident_id_genders(series, today=TODAY).tolist() == [p.gender for p in parsed]
    assert ids.mask_resident_ids(pd.Series(strings, dtype=object)).tolist() == [
        ids.mask_resident_id(v) for v in strings
    ]


TRICKY_RIDS = [
    *RID_VALID,
    "11010519491231002x",
    " 11010519491231002X",
    "11010519491231002X\u3000",
    "11010519491231002X\x00",
    "110105491231002",
    "110105491231002 ",
    "11010549123100",
    "110105000229001",
    with_rid_check("11010520000229001"),
    with_rid_check("11010519000229001"),
    with_rid_check("53011220250701001"),  # the day after TODAY
    with_rid_check("53011220250630001"),  # TODAY
    "\u0661\u0661010519491231002X",
    "\uff11\uff11010519491231002X",
    "",
    None,
    float("nan"),
    pd.NA,
    11010519491231002,
    b"11010519491231002X",
]


@pytest.mark.parametrize("strict", [False, True])
def test_vectorised_resident_ids_agree_on_tricky_values(strict):
    expected = [ids.is_resident_id(v, today=TODAY, strict=strict) for v in TRICKY_RIDS]
    got = ids.validate_resident_ids(pd.Series(TRICKY_RIDS, dtype=object), today=TODAY, strict=strict)
    assert got.tolist() == expected
    assert sum(expected) == (6 if strict else 11)
    strings = [v for v in TRICKY_RIDS if isinstance(v, str)]
    for dtype in ("str", "string[python]", "string[pyarrow]", object):
        series = pd.Series(strings, dtype=dtype)
        assert ids.validate_resident_ids(series, today=TODAY, strict=strict).tolist() == [
            ids.is_resident_id(v, today=TODAY, strict=strict) for v in strings
        ], dtype
        assert ids.mask_resident_ids(series).tolist() == [ids.mask_resident_id(v) for v in strings], dtype


def corrupt_uscc(code: str, kind: int, pos: int, c: str) -> object:
    pos %= 18
    return [
        code,
        code[:pos] + c + code[pos + 1 :],
        swap(code, pos, (pos + 1) % 18),
        code[:pos],
        code.lower(),
        f"\t{code} ",
        code + c,
        None,
        code[:17] + "\ufb00",
    ][kind]


uscc_mixtures = st.lists(
    st.builds(
        corrupt_uscc,
        valid_usccs | st.sampled_from(USCC_VALID),
        st.integers(0, 8),
        st.integers(0, 17),
        st.sampled_from(list(USCC_ALPHABET + "IOSZVaz ") + ["\u00e9"]),
    )
    | st.text(max_size=20),
    max_size=40,
)


@settings(deadline=None, max_examples=150)
@given(uscc_mixtures, st.booleans(), st.booleans())
def test_vectorised_usccs_agree_with_scalar(values, check_org_code, strict):
    expected = [ids.is_uscc(v, check_org_code=check_org_code, strict=strict) for v in values]
    got = ids.validate_usccs(pd.Series(values, dtype=object), check_org_code=check_org_code, strict=strict)
    assert got.tolist() == expected
    valid = [v for v, ok in zip(values, expected, strict=True) if ok]
    if valid and not strict:
        got_norm = ids.normalize_usccs(pd.Series(valid), check_org_code=check_org_code)
        assert got_norm.tolist() == [ids.normalize_uscc(v) for v in valid]


@settings(deadline=None)
@given(st.lists(st.tuples(address_codes, birth_dates, sequences), min_size=1, max_size=30))
def test_make_resident_ids_matches_scalar(rows):
    addr, born, seq = zip(*rows, strict=True)
    got = ids.make_resident_ids(list(addr), list(born), list(seq))
    assert got.tolist() == [ids.make_resident_id(a, b, s) for a, b, s in rows]


@settings(deadline=None)
@given(st.lists(st.tuples(authority_categories, divisions, org_bodies), min_size=1, max_size=30))
def test_make_usccs_matches_scalar(rows):
    ac, div, body = zip(*rows, strict=True)
    got = ids.make_usccs(list(ac), list(div), list(body))
    assert got.tolist() == [ids.make_uscc(*r) for r in rows]


def test_make_resident_ids_broadcast_and_errors():
    out = ids.make_resident_ids(
        "530112", np.array(["1990-01-01", "1991-02-03"], dtype="datetime64[D]"), [1, 2]
    )
    assert out.dtype == np.dtype("<U18")
    assert out.tolist() == [
        ids.make_resident_id("530112", date(1990, 1, 1), 1),
        ids.make_resident_id("530112", date(1991, 2, 3), 2),
    ]
    with pytest.raises(IdentifierError):
        ids.make_resident_ids(["53011"], [date(1990, 1, 1)], [1])
    with pytest.raises(IdentifierError):
        ids.make_resident_ids(["530112"], [date(1990, 1, 1)], [1000])
    with pytest.raises(IdentifierError):
        ids.make_resident_ids(["530112"] * 3, [date(1990, 1, 1)] * 2, [1])


# ----------------------------------------------------------------------------------------------------------
# Batch errors
# ----------------------------------------------------------------------------------------------------------


def test_normalize_resident_ids_names_offenders():
    good = [ids.make_resident_id("530112", date(1980, 1, 1), i) for i in range(30)]
    values = good[:5] + ["360426199101010072"] * 25 + [None]
    index = [f"h{i}" for i in range(len(values))]
    with pytest.raises(IdentifierError) as info:
        ids.normalize_resident_ids(pd.Series(values, index=index))
    err = info.value
    assert err.kind == "resident_id" and err.details["count"] == 26
    assert err.details["labels"] == index[5:25] and len(err.details["positions"]) == 20
    assert "26 invalid" in str(err) and "'h5'" in str(err) and "'h24'" in str(err) and "'h25'" not in str(err)
    assert "360426199101010072" not in str(err)
    assert err.details["reasons"][0] == "check"


def test_allow_missing():
    s = pd.Series(["11010519491231002X", None, "110105491231002"], index=["a", "b", "c"], name="head_id")
    with pytest.raises(IdentifierError) as info:
        ids.normalize_resident_ids(s)
    assert info.value.details["labels"] == ["b"] and info.value.details["reasons"] == ["missing"]
    out = ids.normalize_resident_ids(s, allow_missing=True)
    assert out.name == "head_id" and pd.isna(out["b"]) and out["c"] == "11010519491231002X"
    births = ids.resident_id_birth_dates(s, allow_missing=True)
    assert births["a"] == pd.Timestamp("1949-12-31") and pd.isna(births["b"])
    genders = ids.resident_id_genders(s, allow_missing=True)
    assert genders["a"] == "female" and pd.isna(genders["b"])
    assert ids.validate_resident_ids(s).tolist() == [True, False, True]


def test_validate_keeps_index_and_handles_odd_inputs():
    s = pd.Series(["11010519491231002X", 5, None], index=[10, 20, 30], name="x", dtype=object)
    out = ids.validate_resident_ids(s)
    assert out.tolist() == [True, False, False] and list(out.index) == [10, 20, 30] and out.name == "x"
    assert ids.validate_resident_ids(pd.Series([11010519491231002, 1])).tolist() == [False, False]
    assert ids.validate_resident_ids(pd.Series([], dtype=object)).tolist() == []
    assert ids.validate_resident_ids(["11010519491231002X"]).tolist() == [True]
    cat = pd.Series(["11010519491231002X", "1"], dtype="category")
    assert ids.validate_resident_ids(cat).tolist() == [True, False]


def test_long_garbage_is_shortened_in_messages():
    with pytest.raises(IdentifierError) as info:
        ids.normalize_uscc("A" * 500)
    assert len(str(info.value)) < 200


def test_normalize_usccs_errors():
    s = pd.Series([" 91110000600037341l", "91110000600037341N", None], index=["a", "b", "c"])
    with pytest.raises(IdentifierError) as info:
        ids.normalize_usccs(s)
    assert info.value.kind == "uscc" and info.value.details["labels"] == ["b", "c"]
    out = ids.normalize_usccs(s.drop("b"), allow_missing=True)
    assert out["a"] == "91110000600037341L" and pd.isna(out["c"])


# ----------------------------------------------------------------------------------------------------------
# Pseudonyms
# ----------------------------------------------------------------------------------------------------------

KEY = bytes(range(32))


def test_pseudonym_is_over_the_normalised_form():
    p = ids.pseudonymize("11010519491231002X", KEY)
    assert len(p) == 64 and int(p, 16) >= 0
    assert ids.pseudonymize("110105491231002", KEY) == p
    assert ids.pseudonymize(" 11010519491231002x", KEY) == p
    assert ids.pseudonymize("11010519491231002X", KEY, kind="resident_id") == p
    message = b"ruralcredit.pseudonym.v1\x00resident_id\x0011010519491231002X"
    assert p == hmac.new(KEY, message, hashlib.sha256).hexdigest()
    assert ids.pseudonymize("92340602ma2pbmem24", KEY) == ids.pseudonymize(
        "92340602MA2PBMEM24", KEY, kind="uscc"
    )


def test_pseudonym_depends_on_key_and_kind():
    p = ids.pseudonymize("11010519491231002X", KEY)
    assert ids.pseudonymize("11010519491231002X", KEY[::-1]) != p
    assert ids.pseudonymize("440524188001010014", KEY) != p


def test_pseudonym_key_is_checked():
    for bad in (b"", b"short", "a-str-key-that-is-long-enough", None):
        with pytest.raises(RuralCreditError):
            ids.pseudonymize("11010519491231002X", bad)
    with pytest.raises(RuralCreditError):
        ids.pseudonymize("11010519491231002X", KEY, kind="phone")
    with pytest.raises(IdentifierError):
        ids.pseudonymize("not an id", KEY)


def test_pseudonym_auto_refuses_ambiguous_values():
    # an all-digit string that is both a valid resident ID number and a valid USCC
    both = next(
        n
        for s in range(1000)
        for n in [ids.make_resident_id("191234", date(1980, 1, 1 + s % 28), s)]
        if ids.is_uscc(n)
    )
    with pytest.raises(IdentifierError) as info:
        ids.pseudonymize(both, KEY)
    assert info.value.reason == "ambiguous"
    assert ids.pseudonymize(both, KEY, kind="uscc") != ids.pseudonymize(both, KEY, kind="resident_id")


def test_pseudonymize_series():
    s = pd.Series(["110105491231002", "92340602MA2PBMEM24", None], index=["a", "b", "c"])
    out = ids.pseudonymize_series(s, KEY, allow_missing=True)
    assert out["a"] == ids.pseudonymize("11010519491231002X", KEY)
    assert out["b"] == ids.pseudonymize("92340602MA2PBMEM24", KEY)
    assert pd.isna(out["c"])
    with pytest.raises(IdentifierError):
        ids.pseudonymize_series(s, KEY)
    with pytest.raises(IdentifierError):
        ids.pseudonymize_series(s.dropna(), KEY, kind="resident_id")
    with pytest.raises(RuralCreditError):
        ids.pseudonymize_series(s, b"short")


def test_docs_example_runs(capsys):
    """The runnable example in docs/ids.md stays runnable."""
    page = Path(__file__).resolve().parents[1] / "docs" / "ids.md"
    code = re.search(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S).group(1)
    exec(compile(code, str(page), "exec"), {})
    out = capsys.readouterr().out
    assert "440524********0014" in out and "440524188001010014" not in out
