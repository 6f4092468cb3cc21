"""Normalise contact identities so one person is found by any spelling of their phone or email."""

from __future__ import annotations

import phonenumbers

from service_hub.core.errors import ValidationProblem
from service_hub.customers.models import IdentityKind

# The operator's home region: national numbers without a country code are read as Chinese.
DEFAULT_REGION = "CN"


def normalise_identity(kind: IdentityKind | str, value: str, region: str = DEFAULT_REGION) -> str:
    kind = IdentityKind(kind)
    raw = value.strip()
    if not raw:
        raise ValidationProblem("An identity needs a value.", errors={"value": ["Must not be empty."]})
    if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP):
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationProblem(f"{raw!r} is not a phone number.", errors={"value": [str(exc)]}) from None
        if not phonenumbers.is_possible_number(number):
            raise ValidationProblem(f"{raw!r} is not a possible phone number.", errors={"value": ["Not a possible phone number."]})
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == IdentityKind.EMAIL:
        if "@" not in raw or raw.startswith("@") or raw.endswith("@") or any(c.isspace() for c in raw):
            raise ValidationProblem(f"{raw!r} is not an email address.", errors={"value": ["Not an email address."]})
        local, _, domain = raw.rpartition("@")
        # Domains are case-insensitive; local parts are by practice, and treating them so avoids twins.
        return f"{local.lower()}@{domain.lower()}"
    return raw
