"""`flask value ...`: import records and recompute scores from the command line."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from service_hub.core.extensions import db
from service_hub.value.imports import KINDS, ImportProgress, run_import
from service_hub.value.models import ImportJob

value_group = AppGroup("value", help="Customer value: import records, recompute scores and tiers.")


# --- import -------------------------------------------------------------------------------------


class _ProgressBar:
    """A click progress bar over the file's rows, opened once the import has counted them."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, progress: ImportProgress) -> None:
        if self.bar is None and progress.total:
            self.bar = click.progressbar(length=progress.total, label=self.label)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(progress.processed - self.shown)
            self.shown = progress.processed

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@value_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the file holds.")
@click.option("--show", default=20, show_default=True, help="How many refused rows to print.")
def import_command(file: Path, kind: str, show: int) -> None:
    """Import a CSV file of transactions or monthly revenue. Refused rows are reported with their
    line numbers while good rows are kept; importing the same file again adds nothing."""
    with file.open("rb") as stream:
        sha256 = hashlib.file_digest(stream, "sha256").hexdigest()
    job = ImportJob(kind=kind, filename=file.name[:255], sha256=sha256, status="queued")
    job.errors = []
    db.session.add(job)
    db.session.commit()
    bar = _ProgressBar(f"Importing {kind}")
    try:
        progress = run_import(job, file, bar)
    finally:
        bar.close()
    if progress.status == "failed":
        raise click.ClickException(f"Import {job.id} failed: {job.errors[-1]['reason']}")
    updated = f" ({progress.updated} updated)" if kind == "revenue" else ""
    click.echo(
        f"Import {job.id} done: {progress.total} rows, {progress.imported} imported{updated}, "
        f"{progress.duplicates} duplicate, {progress.rejected} rejected."
    )
    for error in job.errors[:show]:
        click.echo(f"  line {error['line']}: {error['reason']}  | {error['raw']}")
    if progress.rejected > show:
        click.echo(f"  ... and {progress.rejected - show} more (GET /api/v1/value/imports/{job.id} lists up to 1,000).")


# --- recompute ------------------------------------------------------------------------------------


@value_group.command("recompute")
@click.option("--full/--incremental", "full", default=True, help="everyone (default), or only customers with new records")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="score as of this day (default today, UTC)")
def recompute_command(full: bool, as_of: Any) -> None:
    """Recompute scores, segments, the value index and tiers with the active value model."""
    from service_hub.value import recompute, scoring

    try:
        result = recompute.run("full" if full else "incremental", as_of=as_of.date() if as_of else None, progress=click.echo)
    except scoring.RunInProgress as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{result.kind} run {result.run_id}: {result.customers} customers, {result.tier_changes} tier changes, {result.seconds:.1f} s"
    )
