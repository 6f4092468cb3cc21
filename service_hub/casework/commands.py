"""`flask sla-escalate`: one pass of the escalation ladder (the scheduler runs it every minute)."""

from __future__ import annotations

from dataclasses import asdict

import click

from service_hub.casework.escalation import run_escalations


@click.command("sla-escalate")
def sla_escalate_command() -> None:
    """Fire due SLA warnings, breaches and supervision notices, each exactly once."""
    click.echo(asdict(run_escalations()))
