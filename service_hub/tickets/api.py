"""placeholder"""

from flask_smorest import Blueprint

blp = Blueprint("Tickets", __name__, url_prefix="/api/v1/tickets")
