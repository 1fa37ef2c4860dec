"""Scorers: compiled scorecards, expert and statistical scorecards, binning, metrics, persistence (layer 3)."""
