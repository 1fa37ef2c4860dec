"""Ratings: grades, credit households, villages, townships and counties, loan terms (layer 4)."""

from ruralcredit.rating.grades import (
    GradeScale,
    assign_grades,
    is_credit_household,
    load_grade_scale,
)
from ruralcredit.rating.periods import (
    PeriodRatings,
    compare_periods,
    criteria_moves,
    rate_periods,
    rating_in_force,
    rating_schedule,
)
from ruralcredit.rating.terms import LoanTermsPolicy, load_loan_terms, loan_terms
from ruralcredit.rating.villages import (
    AreaRating,
    VillageCriteria,
    rate_counties,
    rate_townships,
    rate_villages,
    village_stars_for,
)

__all__ = [
    "AreaRating",
    "GradeScale",
    "LoanTermsPolicy",
    "PeriodRatings",
    "VillageCriteria",
    "assign_grades",
    "compare_periods",
    "criteria_moves",
    "is_credit_household",
    "load_grade_scale",
    "load_loan_terms",
    "loan_terms",
    "rate_counties",
    "rate_periods",
    "rate_townships",
    "rate_villages",
    "rating_in_force",
    "rating_schedule",
    "village_stars_for",
]
