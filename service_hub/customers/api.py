"""placeholder"""

from flask_smorest import Blueprint

blp = Blueprint("Customers", __name__, url_prefix="/api/v1/customers")
