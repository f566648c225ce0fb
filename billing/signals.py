"""Signals billing sends for the apps above it.

`purchase_paid` is sent with `purchase=` once the transaction that recorded a
payment commits (`billing.services.outcomes`), once per purchase.
"""

from django.dispatch import Signal

purchase_paid = Signal()
