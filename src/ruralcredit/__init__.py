"""ruralcredit: a county's rural credit system end to end."""

__version__ = "0.1.0"
