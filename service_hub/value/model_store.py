"""Versions of the value model: which one is active, storing a new one, and its weights explained.

Every change stores a new version (the full, normalised document) and never edits an old one, so
a run's scores can always be explained with the model they were computed by. The active model is
the newest version marked active; with none stored, DEFAULT_MODEL is version 0.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from service_hub.auth.principal import Principal
from service_hub.core.errors import Conflict, NotFound, ValidationProblem
from service_hub.core.extensions import db
from service_hub.core.outbox import record_event
from service_hub.value.ahp import AhpResult, analyse
from service_hub.value.config import DEFAULT_MODEL, METRICS, ModelError, ValueModelConfig, parse
from service_hub.value.models import ValueModelRow

DEFAULT_VERSION = 0
VERSIONS_SHOWN = 200


def _active_row() -> ValueModelRow | None:
    query = select(ValueModelRow).where(ValueModelRow.is_active.is_(True)).order_by(ValueModelRow.version.desc()).limit(1)
    return db.session.scalars(query).first()


def active_model() -> tuple[int, ValueModelConfig]:
    """(version, config) of the model new runs score with; (0, DEFAULT_MODEL) when none is stored."""
    row = _active_row()
    return (DEFAULT_VERSION, DEFAULT_MODEL) if row is None else (row.version, parse(row.document))


def model_of_version(version: int) -> ValueModelConfig:
    """The model a run was computed with; a version no longer stored explains with the default."""
    if version == DEFAULT_VERSION:
        return DEFAULT_MODEL
    row = db.session.scalars(select(ValueModelRow).where(ValueModelRow.version == version)).first()
    return DEFAULT_MODEL if row is None else parse(row.document)


def validated(document: dict[str, Any]) -> ValueModelConfig:
    """parse(), with its ModelError turned into a 422 whose detail carries the message (and CR)."""
    try:
        return parse(document)
    except ModelError as exc:
        errors: dict[str, Any] = {"json": {exc.field: [str(exc)]}}
        if exc.consistency_ratio is not None:
            errors["consistency_ratio"] = round(exc.consistency_ratio, 4)
        raise ValidationProblem(str(exc), errors=errors) from None


# --- views -------------------------------------------------------------------------------------


def _consistency(result: AhpResult) -> dict[str, float]:
    return {
        "lambda_max": result.lambda_max,
        "consistency_index": result.consistency_index,
        "consistency_ratio": result.consistency_ratio,
    }


def weights_of(config: ValueModelConfig) -> dict[str, Any]:
    """Criterion weights and each criterion's indicators with local and global weights, and the
    consistency of every matrix. The config was parsed, so every matrix has CR < 0.1."""
    top = analyse(config.criteria_matrix)
    criteria = []
    for criterion, criterion_weight in zip(config.criteria, top.weights, strict=True):
        local = analyse(criterion.matrix)
        indicators = [
            {"metric": metric, "better": METRICS[metric], "local_weight": lw, "global_weight": criterion_weight * lw}
            for metric, lw in zip(criterion.indicators, local.weights, strict=True)
        ]
        criteria.append({"key": criterion.key, "weight": criterion_weight, **_consistency(local), "indicators": indicators})
    return {"criteria_matrix": _consistency(top), "criteria": criteria}


def model_view(config: ValueModelConfig, row: ValueModelRow | None, active_version: int | None) -> dict[str, Any]:
    version = row.version if row is not None else (DEFAULT_VERSION if active_version is not None else None)
    return {
        "version": version,
        "active": version is not None and version == active_version,
        "created_at": row.created_at if row is not None else None,
        "created_by_id": row.created_by_id if row is not None else None,
        "document": config.to_document(),
        "weights": weights_of(config),
    }


def active_model_view() -> dict[str, Any]:
    row = _active_row()
    config = DEFAULT_MODEL if row is None else parse(row.document)
    return model_view(config, row, row.version if row is not None else DEFAULT_VERSION)


def version_view(version: int) -> dict[str, Any]:
    active = _active_row()
    active_version = active.version if active is not None else DEFAULT_VERSION
    if version == DEFAULT_VERSION:
        return model_view(DEFAULT_MODEL, None, active_version)
    row = db.session.scalars(select(ValueModelRow).where(ValueModelRow.version == version)).first()
    if row is None:
        raise NotFound(f"Value model version {version} does not exist.")
    return model_view(parse(row.document), row, active_version)


def dry_run(document: dict[str, Any]) -> dict[str, Any]:
    """What PUT would store and the weights it would give, without storing anything."""
    return model_view(validated(document), None, None)


def list_versions() -> list[dict[str, Any]]:
    active = _active_row()
    rows = db.session.scalars(select(ValueModelRow).order_by(ValueModelRow.version.desc()).limit(VERSIONS_SHOWN)).all()
    active_version = active.version if active is not None else DEFAULT_VERSION
    return [
        {
            "version": r.version,
            "is_active": r.is_active,
            "active": r.version == active_version,
            "created_at": r.created_at,
            "created_by_id": r.created_by_id,
        }
        for r in rows
    ]


# --- change ------------------------------------------------------------------------------------


def save_model(actor: Principal, document: dict[str, Any]) -> dict[str, Any]:
    """Store the document as the newest, active version. Keys left out take the default (not the
    previous version's value): a version is a whole model, readable on its own."""
    config = validated(document)
    previous = _active_row()
    version = (db.session.scalar(select(func.max(ValueModelRow.version))) or DEFAULT_VERSION) + 1
    row = ValueModelRow(version=version, document=config.to_document(), is_active=True, created_by_id=actor.agent.id)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Another administrator saved a model version at the same moment; reload and try again.") from None
    record_event(
        "value.model.changed",
        {
            "version": version,
            "previous_version": previous.version if previous is not None else DEFAULT_VERSION,
            "actor_id": actor.agent.id,
            "actor_via": actor.via,
        },
        ["supervisors"],
    )
    db.session.commit()
    return model_view(config, row, version)
