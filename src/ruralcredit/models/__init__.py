"""Scorers: compiled scorecards, expert and statistical scorecards, binning, metrics, persistence (layer 3)."""

from ruralcredit.models import metrics
from ruralcredit.models.binning import BinningProcess, OptimalBinning
from ruralcredit.models.compiled import CompiledFeature, CompiledScorecard, ScoreToPD
from ruralcredit.models.expert import ExpertScorecard
from ruralcredit.models.persistence import SaveableScorer, load, read_metadata, register_scorer, save
from ruralcredit.models.scorecard import Scorecard
from ruralcredit.models.woe import WoeEncoder

__all__ = [
    "BinningProcess",
    "CompiledFeature",
    "CompiledScorecard",
    "ExpertScorecard",
    "OptimalBinning",
    "SaveableScorer",
    "ScoreToPD",
    "Scorecard",
    "WoeEncoder",
    "load",
    "metrics",
    "read_metadata",
    "register_scorer",
    "save",
]
