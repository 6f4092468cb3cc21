"""`flask value ...`: import records and recompute scores from the command line."""

from flask.cli import AppGroup

value_group = AppGroup("value", help="Customer value: import records, recompute scores and tiers.")
