"""Protected attributes are never model inputs (DESIGN.md section 8).

Ethnicity (民族), gender and religion exist in the tables only to audit fairness. Every scorer calls
:func:`check_no_protected` on its input columns when it is fitted; templates refuse them too. The
check itself lives with the table contracts (:mod:`ruralcredit.schema`), which declare the protected
columns, so that layers below the models can use it; this module is its home for model code.
"""

from __future__ import annotations

from ruralcredit.schema import check_no_protected, is_protected_name

__all__ = ["check_no_protected", "is_protected", "is_protected_name"]

#: Alias kept for readability in model code.
is_protected = is_protected_name
