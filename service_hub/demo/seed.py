"""`flask seed-demo`: fill an empty database with a realistic mobile operator to try the desk on.

Six service centres with their departments and front-line groups, agents of every role,
a few thousand customers reachable on several channels, and tickets of the past 60 days in
every status. Deterministic for a given --seed (times are relative to now). Rows go in with
batched INSERTs through db.session, so the default size takes seconds, and one commit at the end.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import click
from sqlalchemy import func, select

from service_hub.auth.passwords import hash_password
from service_hub.core.extensions import db
from service_hub.core.types import utcnow
from service_hub.demo.customers import create_customers
from service_hub.demo.organisation import DemoLogin, create_organisation
from service_hub.demo.tickets import create_tickets
from service_hub.org.models import Agent
from service_hub.tickets.models import Counter, Ticket

DEMO_PASSWORD = "servicehub-demo"  # noqa: S105  (a published demo password, printed on purpose)
TICKET_COUNTER = "ticket_number"
FIRST_TICKET_NUMBER = 100001


@dataclass(frozen=True)
class SeedSummary:
    departments: int
    agents: int
    customers: int
    tickets: int
    first_ticket_number: int
    last_ticket_number: int
    logins: list[DemoLogin]


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has agents (what `make run` uses).")
@click.option("--customers", default=3000, show_default=True, type=click.IntRange(1), help="Number of customers.")
@click.option("--tickets", default=6000, show_default=True, type=click.IntRange(0), help="Number of tickets.")
@click.option("--seed", default=42, show_default=True, type=int, help="Random seed; the same seed gives the same data.")
def seed_demo_command(if_empty: bool, customers: int, tickets: int, seed: int) -> None:
    """Create a demo operator: centres, departments, agents, customers and tickets."""
    if db.session.scalar(select(Agent.id).limit(1)) is not None:
        if if_empty:
            click.echo("Demo data not seeded: the database already has agents.")
            return
        raise click.ClickException("The database already has agents; seed-demo fills an empty database (--if-empty skips quietly).")
    started = time.perf_counter()
    summary = seed_demo(customers=customers, tickets=tickets, seed=seed)
    elapsed = time.perf_counter() - started
    click.echo(
        f"Seeded {summary.departments} departments, {summary.agents} agents, {summary.customers} customers and "
        f"{summary.tickets} tickets (#{summary.first_ticket_number}..#{summary.last_ticket_number}) in {elapsed:.1f} s."
    )
    _echo_logins(summary.logins)


def seed_demo(*, customers: int, tickets: int, seed: int) -> SeedSummary:
    """Create everything in the current db.session and commit once."""
    rng = random.Random(seed)
    now = utcnow()
    # Argon2 is slow on purpose: hash the shared demo password once, not per agent.
    org = create_organisation(rng, hash_password(DEMO_PASSWORD))
    customer_refs = create_customers(rng, customers, now)
    first_number = _first_ticket_number()
    last_number = create_tickets(rng, tickets, now, org, customer_refs, first_number) if tickets else first_number - 1
    _set_ticket_counter(last_number)
    db.session.commit()
    return SeedSummary(
        departments=len(org.unit_ids),
        agents=db.session.scalar(select(func.count(Agent.id))) or 0,
        customers=len(customer_refs),
        tickets=tickets,
        first_ticket_number=first_number,
        last_ticket_number=last_number,
        logins=org.logins,
    )


def _first_ticket_number() -> int:
    """Continue after whatever the counter or existing tickets already used."""
    counter = db.session.get(Counter, TICKET_COUNTER)
    highest = db.session.scalar(select(func.max(Ticket.number)))
    return max(FIRST_TICKET_NUMBER, (counter.value if counter else 0) + 1, (highest or 0) + 1)


def _set_ticket_counter(last_number: int) -> None:
    """Later tickets take counter + 1, so they continue after the demo's numbers."""
    counter = db.session.get(Counter, TICKET_COUNTER)
    if counter is None:
        db.session.add(Counter(name=TICKET_COUNTER, value=last_number))
    else:
        counter.value = max(counter.value, last_number)


def _echo_logins(logins: list[DemoLogin]) -> None:
    width = max(len(login.email) for login in logins)
    click.echo("")
    click.echo("Demo logins (every demo agent shares one password):")
    click.echo(f"  {'email':<{width}}  {'role':<11}  department")
    for login in logins:
        click.echo(f"  {login.email:<{width}}  {login.role.value:<11}  {login.department}")
    click.echo(f"  password: {DEMO_PASSWORD}")
