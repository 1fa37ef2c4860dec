"""Ratings: grades, credit households, villages, townships and counties, loan terms (layer 4)."""
