"""``python -m ruralcredit``: the command line."""

from ruralcredit.cli import main

raise SystemExit(main())
