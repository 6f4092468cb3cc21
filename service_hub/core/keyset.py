"""Keyset (seek) pagination: the next page starts after the last row, with one index range scan.

OFFSET reads and throws away every row before the page; a keyset cursor names the place where the
last page ended, so page 1 and page 10,000 cost the same. For the database to start the scan at
that place, the sort keys are compared as one row value, `(k1, k2, id) > (v1, v2, v3)`, which
needs every key in one direction and no NULLs. So a key sorted the other way is negated
(`inverted`), and a nullable key sorts as COALESCE(key, far future): NULL deadlines come last.
The indexes (see tickets.models) are built on exactly these expressions.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, func, tuple_, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from service_hub.core.errors import Problem
from service_hub.core.types import UTCDateTime


class far_future(FunctionElement[datetime]):
    """A timestamp after every real one, spelled so an expression index can match it."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(far_future, "postgresql")
def _far_future_pg(element: far_future, compiler: Any, **kw: Any) -> str:
    return "'infinity'::timestamptz"


@compiles(far_future)
def _far_future_default(element: far_future, compiler: Any, **kw: Any) -> str:
    # SQLite keeps datetimes as ISO text; this sorts after every stored value.
    return "'9999-12-31 23:59:59.999999'"


@dataclass(frozen=True)
class SortKey:
    column: Any  # a mapped attribute; the cursor reads the row's attribute of the same name
    kind: type = int  # int, str or datetime: how the cursor value is checked and decoded
    inverted: bool = False  # sort this integer key the other way (negated)
    nullable: bool = False  # NULL sorts last, as far_future()

    def expression(self) -> ColumnElement[Any]:
        if self.inverted:
            return -type_coerce(self.column, Integer())
        if self.nullable:
            return func.coalesce(self.column, far_future())
        return self.column  # type: ignore[no-any-return]

    def value_of(self, row: Any) -> Any:
        value = getattr(row, self.column.key)
        return int(value) if self.inverted else value

    def bound(self, value: Any) -> Any:
        if value is None:
            return far_future()
        return -value if self.inverted else value


@dataclass(frozen=True)
class Sort:
    keys: tuple[SortKey, ...]  # the last key must be unique (the id) so the order is total
    descending: bool = False

    def order_by(self) -> list[Any]:
        return [k.expression().desc() if self.descending else k.expression().asc() for k in self.keys]


class InvalidCursor(Problem):
    status, code, title = 400, "invalid-cursor", "Invalid cursor"


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(sort.keys):
            raise ValueError("wrong length")
        values: list[Any] = []
        for key, value in zip(sort.keys, raw, strict=True):
            if value is None and key.nullable:
                values.append(None)
            elif key.kind is datetime and isinstance(value, str):
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive datetime")
                values.append(parsed)
            elif key.kind in (int, str) and type(value) is key.kind:
                values.append(value)
            else:
                raise ValueError(f"bad value {value!r}")
        return values
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"The cursor is malformed ({exc}); start again from the first page.") from None


def seek(query: Select[Any], sort: Sort, cursor: str | None) -> Select[Any]:
    """Apply the sort's ORDER BY and, given a cursor, the row comparison that starts after it."""
    query = query.order_by(*sort.order_by())
    if not cursor:
        return query
    values = decode_cursor(cursor, sort)
    row = tuple_(*(k.expression() for k in sort.keys))
    after = tuple_(*(k.bound(v) for k, v in zip(sort.keys, values, strict=True)))
    return query.where(row < after if sort.descending else row > after)


def cursor_for(row: Any, sort: Sort) -> str:
    return encode_cursor([k.value_of(row) for k in sort.keys])
