"""The county report: one self-contained HTML file with embedded plots (layer 5).

- :class:`ReportData`: what to show (scores, area ratings, outcomes, PSI, warnings, cases, blacklist,
  eligibility, fairness, a model card); every section optional.
- :func:`render_report`: the HTML page as text; :func:`write_report`: written to a file.
"""

from ruralcredit.report.data import ReportData
from ruralcredit.report.html import render_report, write_report

__all__ = ["ReportData", "render_report", "write_report"]
