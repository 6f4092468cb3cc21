"""Notes, mentions, notifications and the case timeline over the API (being built)."""

from flask_smorest import Blueprint

blp = Blueprint("collab", __name__, url_prefix="/api/v1", description="Collaboration: mentions, notifications, timeline")
