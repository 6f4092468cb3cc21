"""Import of transactions and monthly revenue over the API (being built)."""

from flask_smorest import Blueprint

blp = Blueprint("value_imports", __name__, url_prefix="/api/v1/value", description="Customer value: imports")
