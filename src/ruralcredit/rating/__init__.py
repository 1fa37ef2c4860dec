"""Ratings: grades, credit households, villages, townships and counties, loan terms (layer 4)."""

from ruralcredit.rating.grades import (
    GradeScale,
    assign_grades,
    is_credit_household,
    load_grade_scale,
)
from ruralcredit.rating.terms import LoanTermsPolicy, load_loan_terms, loan_terms

__all__ = [
    "GradeScale",
    "LoanTermsPolicy",
    "assign_grades",
    "is_credit_household",
    "load_grade_scale",
    "load_loan_terms",
    "loan_terms",
]
