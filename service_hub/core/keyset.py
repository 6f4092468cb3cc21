"""Keyset (seek) pagination over any ORDER BY, including descending and NULLS LAST keys.

OFFSET reads and throws away every row before the page; a keyset cursor starts where the last
page ended, so page 1 and page 10,000 cost the same. The cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_

from service_hub.core.errors import Problem


@dataclass(frozen=True)
class SortKey:
    column: Any  # an ORM attribute or column expression
    descending: bool = False
    nullable: bool = False  # NULLs sort last in either direction
    is_datetime: bool = False

    def order_by(self) -> Any:
        expr = self.column.desc() if self.descending else self.column.asc()
        return expr.nulls_last() if self.nullable else expr


class InvalidCursor(Problem):
    status, code, title = 400, "invalid-cursor", "Invalid cursor"


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("wrong length")
        values: list[Any] = []
        for key, value in zip(keys, raw, strict=True):
            if value is None:
                if not key.nullable:
                    raise ValueError("null in a non-null key")
                values.append(None)
            elif key.is_datetime:
                values.append(datetime.fromisoformat(value))
            elif isinstance(value, (int, str)) and not isinstance(value, bool):
                values.append(value)
            else:
                raise ValueError("bad value")
        return values
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"The cursor is malformed ({exc}); start again from the first page.") from None


def _after(key: SortKey, value: Any) -> ColumnElement[bool]:
    """Rows strictly after `value` in this key's order."""
    col = key.column
    if value is None:  # NULLs are last: nothing of this key comes after a NULL
        return and_(col.is_(None), col.is_not(None))  # always false, keeps the expression typed
    beyond = col < value if key.descending else col > value
    return or_(beyond, col.is_(None)) if key.nullable else beyond


def _equal(key: SortKey, value: Any) -> ColumnElement[bool]:
    return key.column.is_(None) if value is None else key.column == value


def seek(query: Select[Any], keys: Sequence[SortKey], cursor: str | None) -> Select[Any]:
    """Apply the ORDER BY of `keys` and, given a cursor, the WHERE that starts after it."""
    query = query.order_by(*(k.order_by() for k in keys))
    if not cursor:
        return query
    values = decode_cursor(cursor, keys)
    # (k1 after v1) OR (k1 = v1 AND k2 after v2) OR ...; the last key must be unique (the id).
    branches = []
    for i, key in enumerate(keys):
        prefix = [_equal(keys[j], values[j]) for j in range(i)]
        branches.append(and_(*prefix, _after(key, values[i])))
    return query.where(or_(*branches))


def cursor_for(row: Any, keys: Sequence[SortKey]) -> str:
    return encode_cursor([getattr(row, k.column.key) for k in keys])
