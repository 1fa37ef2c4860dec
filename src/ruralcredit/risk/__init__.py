"""Finance-risk early warning: rules, graph and anomaly signals, drift monitoring, cases (layer 4).

预警 + 监测 + 分析 + 处置: :func:`scan` runs the warning rules of a policy pack (``kind: warning_rules``)
over the tables as known on a date and returns a warnings frame with evidence;
:class:`AnomalyDetector` scores unusual subjects; :func:`drift_warnings` turns score and feature
drift (PSI, CSI) into warnings; :class:`CaseBook` carries warnings through monitoring, analysis and
disposal in the store's hash-chained event log; :func:`precision_recall` scores rules against
labelled patterns. See ``docs/risk.md``.
"""

from ruralcredit.risk.anomaly import AnomalyDetector
from ruralcredit.risk.cases import ACTIONS, CASE_STATES, FINAL_STATES, Case, CaseBook
from ruralcredit.risk.evaluate import precision_recall
from ruralcredit.risk.monitoring import drift_warnings
from ruralcredit.risk.rules import SEVERITIES, Rule, WarningRules, load_rules
from ruralcredit.risk.scan import scan
from ruralcredit.risk.signals import SIGNALS

__all__ = [
    "ACTIONS",
    "CASE_STATES",
    "FINAL_STATES",
    "SEVERITIES",
    "SIGNALS",
    "AnomalyDetector",
    "Case",
    "CaseBook",
    "Rule",
    "WarningRules",
    "drift_warnings",
    "load_rules",
    "precision_recall",
    "scan",
]
