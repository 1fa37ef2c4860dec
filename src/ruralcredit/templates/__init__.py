"""Indicator templates (信用信息指标模板) and the built-in policy packs (layer 1)."""
