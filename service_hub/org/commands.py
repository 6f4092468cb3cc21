"""`flask create-admin`: the first administrator of a fresh production install."""

from __future__ import annotations

import click

from service_hub.core.errors import Problem
from service_hub.org.models import Role
from service_hub.org.operations import create_agent


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option(help="Asked for when not given; at least 10 characters.")
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create an administrator who can then add departments and agents over the API."""
    try:
        agent = create_agent(None, email=email, name=name, role=Role.ADMIN, password=password)
    except Problem as exc:
        reasons = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in (exc.errors or {}).items())
        raise click.ClickException(f"{exc.detail} {reasons}".strip()) from None
    click.echo(f"Administrator {agent.email} created (id {agent.id}).")
