"""Proposed app changes, applied at runtime for the experiments only (service_hub/ is not edited).

Selected by name (env BENCH_PATCHES="auth_cache" for bench.patched_wsgi):

* auth_cache: today every request spends three of its queries on who is asking before doing
  any work: the API token with its agent, the agent's memberships (with their departments) and
  the whole department tree for the scope. This patch keeps the authenticated principal per
  token for TOKEN_TTL_S seconds and the department tree for TREE_TTL_S seconds, in-process.
  It is a measurement device, not the proposed code: the real change must invalidate on token
  revocation, agent deactivation, membership and department changes (e.g. a generation counter
  in Redis checked per request, which costs one round trip instead of three queries).
"""

from __future__ import annotations

import os
import time
from typing import Any

TOKEN_TTL_S = 10.0
TREE_TTL_S = 10.0


def _cached(function: Any, ttl_s: float, key: Any) -> Any:
    cache: dict[Any, tuple[float, Any]] = {}

    def wrapper(*args: Any) -> Any:
        k = key(*args)
        hit = cache.get(k)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        value = function(*args)
        cache[k] = (now + ttl_s, value)
        return value

    return wrapper


def _detached_principal(original: Any) -> Any:
    """token_principal, with the agent and its memberships loaded and detached from the session."""
    from service_hub.core.extensions import db

    def token_principal(header: str) -> Any:
        principal = original(header)
        _ = principal.agent.department_ids  # load the memberships while the session is there
        db.session.expunge(principal.agent)  # cascades to the memberships
        return principal

    return token_principal


def apply(names: set[str]) -> None:
    unknown = names - {"auth_cache"}
    if unknown:
        raise ValueError(f"unknown patches: {sorted(unknown)}")
    if "auth_cache" in names:
        from service_hub.auth import principal, scope

        principal.token_principal = _cached(_detached_principal(principal.token_principal), TOKEN_TTL_S, key=lambda header: header)
        scope._tree = _cached(scope._tree, TREE_TTL_S, key=lambda: None)


def from_env() -> set[str]:
    return {name.strip() for name in os.environ.get("BENCH_PATCHES", "").split(",") if name.strip()}
