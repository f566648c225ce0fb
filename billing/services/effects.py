"""What a sale or a refund changes beyond the purchase itself.

`outcomes` and `refunds` call `purchase_changed` inside their transaction,
with the purchase locked and its new state saved. Each step works from the
purchases themselves rather than from the change, so a duplicated or
reordered Stripe event that runs it again ends in the same place:

- `caps`: the active-student ledger and the teacher's plan-cap state;
- `gmv`: the teacher's sales totals for the purchase's month.
"""

from billing.models import Purchase
from billing.services import caps, gmv


def purchase_changed(purchase: Purchase) -> None:
    caps.purchase_changed(purchase)
    gmv.purchase_changed(purchase)
