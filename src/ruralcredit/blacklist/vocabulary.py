"""The blacklist's closed vocabularies: listing categories (a small tree), severities, removal reasons.

Categories are dotted codes under a few top-level groups (``debt``, ``court``, ``subsidy``,
``finance``, ``tax``); a listing takes a leaf, and a policy may name any node to mean "this node and
everything under it" (:func:`within`). Labels are in Chinese and English.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruralcredit.errors import InputError

__all__ = [
    "CATEGORIES",
    "REMOVAL_REASONS",
    "SEVERITIES",
    "Category",
    "RemovalReason",
    "category",
    "leaf_categories",
    "within",
]


@dataclass(frozen=True)
class Category:
    """One node of the category tree.

    Attributes
    ----------
    code : str
        Dotted code, e.g. ``"debt.malicious_evasion"``.
    zh, en : str
        Labels.
    description : str
        What falls under it.
    """

    code: str
    zh: str
    en: str
    description: str = ""

    @property
    def parent(self) -> str | None:
        """The parent node's code (``None`` for a top-level group)."""
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    @property
    def is_leaf(self) -> bool:
        """Whether no other category lies under this one."""
        return not any(c.startswith(self.code + ".") for c in CATEGORIES)


_TREE = (
    Category("debt", "债务失信", "debt dishonesty"),
    Category("debt.malicious_evasion", "恶意逃废银行债务", "malicious evasion of bank debt",
             "able to pay but refuses: false information, hiding or moving assets, restructuring to shed debt, "
             "refusing to sign collection notices"),
    Category("debt.loan_fraud", "骗取贷款", "obtaining loans by fraud"),
    Category("debt.impersonated_loan", "冒名贷款", "borrowing in another person's name"),
    Category("debt.loan_misuse", "违规用款", "using loan funds against the contract"),
    Category("court", "司法失信", "court-determined dishonesty"),
    Category("court.dishonest_debtor", "失信被执行人", "court-listed dishonest judgement debtor"),
    Category("subsidy", "财政补贴失信", "subsidy dishonesty"),
    Category("subsidy.fraud", "骗取财政补贴", "obtaining fiscal subsidies by fraud"),
    Category("subsidy.misappropriation", "挪用财政补贴", "misappropriating fiscal subsidies"),
    Category("finance", "金融违法", "financial offences"),
    Category("finance.illegal_fundraising", "非法集资", "illegal fundraising"),
    Category("finance.relending", "二次放贷", "re-lending bank loans at higher rates"),
    Category("finance.illegal_securities", "非法证券活动", "illegal securities activity"),
    Category("tax", "税收失信", "tax dishonesty"),
    Category("tax.evasion", "重大税收违法", "major tax violation"),
)

#: Every category by code.
CATEGORIES: dict[str, Category] = {c.code: c for c in _TREE}

#: Severities (失信程度), mildest first, with Chinese labels. Their publicity periods live in the
#: blacklist policy pack, not here.
SEVERITIES: dict[str, str] = {"minor": "轻微失信", "ordinary": "一般失信", "serious": "严重失信"}


@dataclass(frozen=True)
class RemovalReason:
    """Why a listing ends.

    Attributes
    ----------
    code, zh, en : str
    void : bool
        The listing was wrong from the start: once removed for this reason it counts as never listed
        (valid time), while what was known before the removal stays answerable (transaction time).
    requestable : bool
        Can be asked for with ``Registry.request_removal`` (``expired`` comes from the sweep,
        ``appeal_upheld`` from an appeal).
    """

    code: str
    zh: str
    en: str
    void: bool
    requestable: bool


#: Removal reasons by code.
REMOVAL_REASONS: dict[str, RemovalReason] = {r.code: r for r in (
    RemovalReason("expired", "公示期满", "maximum publicity period reached", void=False, requestable=False),
    RemovalReason("repaid", "已履行清偿", "obligations repaid", void=False, requestable=True),
    RemovalReason("credit_repair", "信用修复", "credit repair", void=False, requestable=True),
    RemovalReason("appeal_upheld", "异议成立", "appeal upheld", void=True, requestable=False),
    RemovalReason("data_error", "信息错误", "data error", void=True, requestable=True),
)}


def category(code: str) -> Category:
    """The category called ``code``.

    Raises
    ------
    InputError
        For an unknown code (the message lists the leaf codes).
    """
    if not isinstance(code, str) or code not in CATEGORIES:
        raise InputError(f"unknown category {code!r}; known: {leaf_categories()}", argument="category",
                         value=code)
    return CATEGORIES[code]


def leaf_categories() -> list[str]:
    """The codes a listing can take (the leaves of the tree)."""
    return [c.code for c in _TREE if c.is_leaf]


def within(code: str, node: str) -> bool:
    """Whether category ``code`` is ``node`` or lies under it."""
    return code == node or code.startswith(node + ".")
