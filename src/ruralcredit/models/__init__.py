"""Scorers: compiled scorecards, expert and statistical scorecards, binning, metrics, persistence (layer 3)."""

from ruralcredit.models import metrics
from ruralcredit.models.compiled import CompiledFeature, CompiledScorecard, ScoreToPD
from ruralcredit.models.expert import ExpertScorecard
from ruralcredit.models.persistence import SaveableScorer, load, read_metadata, register_scorer, save

__all__ = [
    "CompiledFeature",
    "CompiledScorecard",
    "ExpertScorecard",
    "SaveableScorer",
    "ScoreToPD",
    "load",
    "metrics",
    "read_metadata",
    "register_scorer",
    "save",
]
