"""The plan catalogue at Stripe: a Product for each paid plan and a Price for each of its prices.

Staff edit plans and prices in the admin; `sync_plans` (the `sync_plans`
command, or the admin's action) makes Stripe match. It creates what is missing
and can run any number of times. A Stripe Price can't change, so a price whose
amount was edited gets a new Stripe Price and the old one is deactivated:
teachers already paying it keep it until they change plan, and Lectern still
knows them by the Product. The Free plan has no prices and needs no Product.
"""

from dataclasses import dataclass, field
from typing import Any

from billing import client
from billing.models import Plan, PlanPrice


@dataclass
class SyncReport:
    """What `sync_plans` changed at Stripe, in lines a person can read."""

    lines: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.lines)


def sync_plans() -> SyncReport:
    """Create the Products and Prices the catalogue lacks at Stripe; return what was done.

    Raises `client.PaymentServiceError` when Stripe refuses or can't be
    reached; what was done before that is kept, and a second run finishes.
    """
    report = SyncReport()
    for plan in Plan.objects.filter(is_free=False).prefetch_related("prices"):
        _sync_product(plan, report)
        for price in plan.prices.all():
            _sync_price(plan, price, report)
    return report


def _sync_product(plan: Plan, report: SyncReport) -> None:
    if plan.stripe_product_id:
        # Names change in the admin; Checkout and invoices show Stripe's copy.
        client.update_product(plan.stripe_product_id, name=plan.name, description=plan.tagline)
        return
    product = client.create_product(
        name=plan.name,
        description=plan.tagline,
        metadata={"plan_code": plan.code},
        idempotency_key=f"plan-product:{plan.pk}",
    )
    plan.stripe_product_id = product["id"]
    Plan.objects.filter(pk=plan.pk).update(stripe_product_id=product["id"])
    report.lines.append(f"Created the product {product['id']} for {plan.name}.")


def _sync_price(plan: Plan, price: PlanPrice, report: SyncReport) -> None:
    if not price.active:
        if price.stripe_price_id and client.retrieve_price(price.stripe_price_id).get("active"):
            client.deactivate_price(price.stripe_price_id)
            report.lines.append(f"Deactivated {price.stripe_price_id} ({price}): not offered.")
        return
    if not price.stripe_price_id:
        created = _create_price(plan, price, replacing="")
        report.lines.append(f"Created the price {created} for {price}.")
        return
    current = client.retrieve_price(price.stripe_price_id)
    if _matches(current, plan, price):
        return
    old = price.stripe_price_id
    created = _create_price(plan, price, replacing=old)
    if current.get("active"):
        client.deactivate_price(old)
    report.lines.append(f"Replaced {old} with {created} for {price}: its amount changed.")


def _matches(stripe_price: dict[str, Any], plan: Plan, price: PlanPrice) -> bool:
    recurring = stripe_price.get("recurring") or {}
    return (
        bool(stripe_price.get("active"))
        and stripe_price.get("product") == plan.stripe_product_id
        and stripe_price.get("unit_amount") == price.amount
        and str(stripe_price.get("currency") or "").upper() == price.currency
        and recurring.get("interval") == price.interval
    )


def _create_price(plan: Plan, price: PlanPrice, *, replacing: str) -> str:
    created = client.create_price(
        product_id=plan.stripe_product_id,
        currency=price.currency,
        amount=price.amount,
        interval=price.interval,
        metadata={"plan_code": plan.code, "plan_price_id": str(price.pk)},
        # The same edit replays the same Price; a later edit of the amount makes another.
        idempotency_key=f"plan-price:{price.pk}:{replacing or 'first'}:{price.amount}",
    )
    PlanPrice.objects.filter(pk=price.pk).update(stripe_price_id=created["id"])
    price.stripe_price_id = created["id"]
    return str(created["id"])
