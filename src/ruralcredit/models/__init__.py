"""Scorers: compiled scorecards, expert and statistical scorecards, binning, metrics, persistence (layer 3)."""

from ruralcredit.models import metrics
from ruralcredit.models.binning import BinningProcess, OptimalBinning
from ruralcredit.models.compiled import CompiledFeature, CompiledScorecard, ScoreToPD
from ruralcredit.models.expert import ExpertScorecard, compile_template
from ruralcredit.models.fairness import FairnessReport, fairness_report
from ruralcredit.models.gbm import GbmScorer
from ruralcredit.models.model_card import ModelCard, household_groups, model_card
from ruralcredit.models.persistence import SaveableScorer, load, read_metadata, register_scorer, save
from ruralcredit.models.protocol import SCORE_COLUMNS, Scorer, check_scorer, required_features
from ruralcredit.models.scorecard import Scorecard
from ruralcredit.models.woe import WoeEncoder

__all__ = [
    "BinningProcess",
    "CompiledFeature",
    "CompiledScorecard",
    "ExpertScorecard",
    "compile_template",
    "FairnessReport",
    "GbmScorer",
    "ModelCard",
    "OptimalBinning",
    "SCORE_COLUMNS",
    "SaveableScorer",
    "ScoreToPD",
    "Scorecard",
    "Scorer",
    "WoeEncoder",
    "check_scorer",
    "fairness_report",
    "household_groups",
    "load",
    "metrics",
    "model_card",
    "read_metadata",
    "register_scorer",
    "required_features",
    "save",
]
