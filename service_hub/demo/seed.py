"""`flask seed-demo`: create the demo operator (filled in by the demo data work)."""

from __future__ import annotations

import click


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Create demo data."""
    raise click.ClickException("not implemented yet")
