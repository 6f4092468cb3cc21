"""The value model, explanations and analytics over the API (being built)."""

from flask_smorest import Blueprint

blp = Blueprint("value", __name__, url_prefix="/api/v1/value", description="Customer value: model, scores, analytics")
