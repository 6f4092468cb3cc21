"""/api/v1/customers: search, read, create, update, identities and merge.

Every path goes through the department scope: a customer the caller may not see is 404.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from service_hub.auth.principal import current_agent, current_principal, require
from service_hub.customers import operations
from service_hub.customers.models import ContactIdentity
from service_hub.customers.schemas import (
    CustomerCreate,
    CustomerDetail,
    CustomerPage,
    CustomerSearchArgs,
    CustomerUpdate,
    IdentityIn,
    IdentityOut,
    MergeIn,
)

blp = Blueprint("Customers", __name__, url_prefix="/api/v1/customers", description="Customers, their contact identities and merges")


@blp.route("")
class Customers(MethodView):
    @require("customers:read")
    @blp.arguments(CustomerSearchArgs, location="query", unknown=RAISE)
    @blp.response(200, CustomerPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Search customers by name (contains), customer number or any identity (phone in any format)."""
        items, next_cursor = operations.search_customers(current_agent(), **args)
        return {"items": items, "next_cursor": next_cursor}

    @require("customers:write")
    @blp.arguments(CustomerCreate)
    @blp.response(201, CustomerDetail)
    def post(self, data: dict[str, Any]) -> operations.CustomerDetailView:
        """Create a customer with its identities; an identity already taken is 409."""
        customer = operations.create_customer(current_principal(), data)
        return operations.customer_detail(current_agent(), customer.id)


@blp.route("/<int:customer_id>")
class CustomerItem(MethodView):
    @require("customers:read")
    @blp.response(200, CustomerDetail)
    def get(self, customer_id: int) -> operations.CustomerDetailView:
        """A customer, its identities and the tickets you may see (newest first). A merged
        customer answers with merged_into_id set: follow it to the survivor."""
        return operations.customer_detail(current_agent(), customer_id)

    @require("customers:write")
    @blp.arguments(CustomerUpdate)
    @blp.response(200, CustomerDetail)
    def patch(self, changes: dict[str, Any], customer_id: int) -> operations.CustomerDetailView:
        """Change name, customer number, language or notes; audited."""
        operations.update_customer(current_principal(), customer_id, changes)
        return operations.customer_detail(current_agent(), customer_id)


@blp.route("/<int:customer_id>/identities")
class CustomerIdentities(MethodView):
    @require("customers:write")
    @blp.arguments(IdentityIn)
    @blp.response(201, IdentityOut)
    def post(self, data: dict[str, Any], customer_id: int) -> ContactIdentity:
        """Add a phone, email or social identity; one already taken is 409."""
        return operations.add_identity(current_principal(), customer_id, data)


@blp.route("/<int:customer_id>/identities/<int:identity_id>")
class CustomerIdentityItem(MethodView):
    @require("customers:write")
    @blp.response(204)
    def delete(self, customer_id: int, identity_id: int) -> None:
        """Remove an identity from the customer."""
        operations.remove_identity(current_principal(), customer_id, identity_id)


@blp.route("/<int:customer_id>/merge")
class CustomerMerge(MethodView):
    @require("customers:write", roles=operations.MERGE_ROLES)
    @blp.arguments(MergeIn)
    @blp.response(200, CustomerDetail)
    def post(self, data: dict[str, Any], customer_id: int) -> operations.CustomerDetailView:
        """Merge source_id into this customer (supervisors and admins): identities, tickets and
        messages move here; the source stays as a tombstone pointing at this customer."""
        operations.merge_customers(current_principal(), customer_id, data["source_id"])
        return operations.customer_detail(current_agent(), customer_id)
