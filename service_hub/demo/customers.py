"""Demo customers: names, tiers, plans and normalised contact identities on several channels."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

from service_hub.customers.identities import normalise_identity
from service_hub.customers.models import ContactIdentity, Customer, IdentityKind, Tier
from service_hub.demo.bulk import insert_returning_ids, insert_rows
from service_hub.demo.content import (
    CENTRES,
    ENGLISH_FIRST_NAMES,
    ENGLISH_SURNAMES,
    FOREIGN_MOBILES,
    GIVEN_NAMES,
    MAIL_DOMAINS,
    MOBILE_PREFIXES,
    NOTES,
    OPENID_ALPHABET,
    PLANS,
    SURNAMES,
    WECHAT_ACCOUNT,
    PlanSpec,
)

TIER_WEIGHTS = {Tier.DIAMOND: 2, Tier.GOLD: 8, Tier.SILVER: 15, Tier.VIP: 5, Tier.NORMAL: 70}
# Monthly fee bands per tier: the better the tier, the dearer the plan.
TIER_MIN_FEE = {Tier.DIAMOND: 299, Tier.GOLD: 169, Tier.SILVER: 129, Tier.VIP: 58, Tier.NORMAL: 0}


@dataclass(frozen=True)
class CustomerRef:
    id: int
    name: str
    language: str  # zh, en or yue
    tier: Tier
    centre: str  # home centre code
    plan: PlanSpec
    identity_kinds: frozenset[IdentityKind]


class _IdentityMaker:
    """Makes identities unique across the run: (kind, account, value) is unique in the table."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[tuple[str, str, str]] = set()

    def claim(self, kind: IdentityKind, account: str, value: str) -> bool:
        key = (kind.value, account, value)
        if key in self.taken:
            return False
        self.taken.add(key)
        return True

    def mobile(self, kind: IdentityKind = IdentityKind.PHONE) -> tuple[str, str]:
        while True:
            national = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            value, display = _phone(national, "CN")
            if value and self.claim(kind, "", value):
                return value, display

    def foreign_mobile(self, countries: tuple[tuple[str, tuple[str, ...], int], ...] = FOREIGN_MOBILES) -> tuple[str, str]:
        while True:
            country, prefixes, digits = self.rng.choice(countries)
            value, display = _phone(f"+{country}{self.rng.choice(prefixes)}{self.rng.randrange(10**digits):0{digits}d}", None)
            if value and self.claim(IdentityKind.WHATSAPP, "", value):
                return value, display

    def email(self, local: str) -> str:
        while True:
            address = normalise_identity(IdentityKind.EMAIL, f"{local}{self.rng.randint(1, 9999)}@{self.rng.choice(MAIL_DOMAINS)}")
            if self.claim(IdentityKind.EMAIL, "", address):
                return address

    def openid(self) -> str:
        while True:
            value = "o" + "".join(self.rng.choices(OPENID_ALPHABET, k=27))
            if self.claim(IdentityKind.WECHAT, WECHAT_ACCOUNT, value):
                return value


def _phone(raw: str, region: str | None) -> tuple[str | None, str]:
    """E.164 value and an international display form, or None if the number is not a valid mobile."""
    number = phonenumbers.parse(raw, region)
    if not phonenumbers.is_valid_number(number):
        return None, ""
    value = normalise_identity(IdentityKind.PHONE, raw, region or "CN")
    return value, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def create_customers(rng: random.Random, count: int, now: datetime) -> list[CustomerRef]:
    identities = _IdentityMaker(rng)
    rows: list[dict[str, Any]] = []
    drafts: list[tuple[dict[str, Any], list[dict[str, Any]], PlanSpec]] = []
    for i in range(count):
        draft = _customer(rng, i, now, identities)
        rows.append(draft[0])
        drafts.append(draft)
    ids = insert_returning_ids(Customer, rows)

    identity_rows: list[dict[str, Any]] = []
    refs: list[CustomerRef] = []
    for customer_id, (customer, contact_rows, plan) in zip(ids, drafts, strict=True):
        for row in contact_rows:
            identity_rows.append(row | {"customer_id": customer_id})
        attributes = customer["attributes"]
        refs.append(
            CustomerRef(
                id=customer_id,
                name=str(customer["name"]),
                language=str(customer["language"]),
                tier=Tier(customer["tier"]),
                centre=str(attributes["centre"]),
                plan=plan,
                identity_kinds=frozenset(IdentityKind(row["kind"]) for row in contact_rows),
            )
        )
    insert_rows(ContactIdentity, identity_rows)
    return refs


def _customer(
    rng: random.Random, index: int, now: datetime, identities: _IdentityMaker
) -> tuple[dict[str, Any], list[dict[str, Any]], PlanSpec]:
    centre = rng.choices(CENTRES, weights=[c.weight for c in CENTRES])[0]
    surname, surname_pinyin = rng.choice(SURNAMES)
    if rng.random() < 0.1:
        first, last = rng.choice(ENGLISH_FIRST_NAMES), rng.choice(ENGLISH_SURNAMES)
        name, language, mail_local = f"{first} {last}", "en", f"{first}.{last}".lower().replace("ü", "ue")
    else:
        given, given_pinyin = rng.choice(GIVEN_NAMES)
        name, mail_local = surname + given, f"{given_pinyin}.{surname_pinyin}"
        language = "yue" if rng.random() < (0.3 if centre.code == "gz" else 0.01) else "zh"
    tier = rng.choices(list(TIER_WEIGHTS), weights=list(TIER_WEIGHTS.values()))[0]
    plan = rng.choice([p for p in PLANS if p.fee >= TIER_MIN_FEE[tier]])
    created_at = now - timedelta(days=rng.randint(70, 3650), minutes=rng.randint(0, 1439))
    customer = {
        "customer_number": f"88{index + 1:08d}",
        "name": name,
        "language": language,
        "tier": tier,
        "notes": rng.choice(NOTES) if rng.random() < 0.05 else None,
        "attributes": {
            "centre": centre.code,
            "city": centre.en,
            "plan": plan.name(language),
            "arpu": round(plan.fee * rng.uniform(0.9, 1.4), 2),
            "account_type": "prepaid" if plan.fee < 50 and rng.random() < 0.6 else "postpaid",
            "customer_since": created_at.date().isoformat(),
        },
        "merged_into_id": None,
        "created_at": created_at,
        "updated_at": created_at,
    }
    return customer, _identities(rng, language, mail_local, created_at, identities), plan


def _identities(rng: random.Random, language: str, mail_local: str, created_at: datetime, maker: _IdentityMaker) -> list[dict[str, Any]]:
    found: list[tuple[IdentityKind, str, str, str | None]] = []  # kind, account, value, display
    english = language == "en"
    if rng.random() < 0.95:
        found.append((IdentityKind.PHONE, "", *maker.mobile()))
        if rng.random() < 0.05:  # a second line, e.g. a family member's SIM on the same account
            found.append((IdentityKind.PHONE, "", *maker.mobile()))
    if rng.random() < (0.8 if english else 0.4) or not found:
        found.append((IdentityKind.EMAIL, "", maker.email(mail_local), None))
    if rng.random() < (0.2 if english else 0.6):
        found.append((IdentityKind.WECHAT, WECHAT_ACCOUNT, maker.openid(), None))
    if english and rng.random() < 0.7:
        found.append((IdentityKind.WHATSAPP, "", *maker.foreign_mobile()))
    elif language == "yue" and rng.random() < 0.3:  # a Hong Kong number
        found.append((IdentityKind.WHATSAPP, "", *maker.foreign_mobile(FOREIGN_MOBILES[:1])))
    elif rng.random() < 0.03 and found[0][0] == IdentityKind.PHONE and maker.claim(IdentityKind.WHATSAPP, "", found[0][2]):
        found.append((IdentityKind.WHATSAPP, "", found[0][2], found[0][3]))
    return [
        {
            "kind": kind,
            "account": account,
            "value": value,
            "display_value": display,
            "verified": kind == IdentityKind.PHONE or rng.random() < 0.5,
            "created_at": created_at,
        }
        for kind, account, value, display in found
    ]
