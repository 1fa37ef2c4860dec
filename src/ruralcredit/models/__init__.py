"""Scorers: compiled scorecards, expert and statistical scorecards, binning, metrics, persistence (layer 3)."""

from ruralcredit.models.compiled import CompiledFeature, CompiledScorecard, ScoreToPD

__all__ = ["CompiledFeature", "CompiledScorecard", "ScoreToPD"]
