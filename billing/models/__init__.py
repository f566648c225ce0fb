"""Billing's models, one module per subject; Django finds them all through this package.

- `payments`: teachers' Stripe Connect accounts, coupons, course purchases,
  refunds and Stripe's webhook events.
- `plans`: the plan catalogue and teachers' own subscriptions to Lectern
  (Stripe customers, payment-method metadata, subscriptions, invoices).
- `limits`: the active-student ledger and each teacher's plan-cap state with
  its history.
- `gmv`: monthly (then yearly) sales totals per teacher.
- `fraud`: risk signals on teacher accounts and the failed card attempts they
  are drawn from.
"""

from billing.models.fraud import CardFailure, FraudSignal
from billing.models.gmv import GmvMonth, GmvYear
from billing.models.limits import ActiveStudent, PlanCapState, PlanCapTransition
from billing.models.payments import (
    ConnectAccount,
    Coupon,
    CouponRedemption,
    Purchase,
    Refund,
    StripeEvent,
)
from billing.models.plans import (
    BillingCustomer,
    Invoice,
    PaymentMethod,
    Plan,
    PlanPrice,
    Subscription,
)

__all__ = [
    "ActiveStudent",
    "BillingCustomer",
    "CardFailure",
    "ConnectAccount",
    "Coupon",
    "CouponRedemption",
    "FraudSignal",
    "GmvMonth",
    "GmvYear",
    "Invoice",
    "PaymentMethod",
    "Plan",
    "PlanCapState",
    "PlanCapTransition",
    "PlanPrice",
    "Purchase",
    "Refund",
    "StripeEvent",
    "Subscription",
]
