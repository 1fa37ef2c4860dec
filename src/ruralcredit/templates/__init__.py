"""Indicator templates (信用信息指标模板) and the built-in policy packs (layer 1)."""

from __future__ import annotations

from ruralcredit.templates.grade_scale import Grade, GradeScale, GradeScalePack
from ruralcredit.templates.templates import (
    Band,
    Category,
    Indicator,
    Template,
    TemplatePayload,
    Veto,
    builtin_templates,
    load_template,
)

__all__ = [
    "Band",
    "Category",
    "Grade",
    "GradeScale",
    "GradeScalePack",
    "Indicator",
    "Template",
    "TemplatePayload",
    "Veto",
    "builtin_templates",
    "load_template",
]
