"""Batched INSERTs through the session: thousands of rows in a few statements, ids returned in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from service_hub.core.extensions import db

BATCH_SIZE = 2000
# The ORM leaves None values out of an INSERT, so rows with different NULL columns would each need
# their own statement; render_nulls keeps every row's column list the same: one executemany a batch.


def insert_rows(model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Insert plain dicts, every dict with the same keys."""
    stmt = insert(model).execution_options(render_nulls=True)
    for start in range(0, len(rows), BATCH_SIZE):
        db.session.execute(stmt, list(rows[start : start + BATCH_SIZE]))


def insert_returning_ids(model: type[Any], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert and return the new primary keys in the order of `rows` (INSERT ... RETURNING)."""
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True).execution_options(render_nulls=True)
    ids: list[int] = []
    for start in range(0, len(rows), BATCH_SIZE):
        ids.extend(db.session.scalars(stmt, list(rows[start : start + BATCH_SIZE])))
    return ids
