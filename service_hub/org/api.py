"""placeholder"""

from flask_smorest import Blueprint

blp = Blueprint("Org", __name__, url_prefix="/api/v1/org")
