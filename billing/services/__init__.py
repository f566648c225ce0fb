"""Every write about money: Connect accounts, checkouts, payments, refunds and disputes.

One module per concern; callers import the one they need
(`from billing.services import checkout`, then `checkout.start_checkout(...)`):

    connect    a teacher's Stripe Express account: onboarding, links, its mirrored state
    pricing    prices, the platform's fee and coupons
    checkout   buying: the seat held, the pending purchase and its Checkout Session
    outcomes   how a payment ends (webhooks, the return page, reconciliation)
    refunds    refunds and disputes
    common     the purchase lock, ids read from Stripe objects, Stripe's timestamps
    fraud      the rules that raise fraud signals, and declined cards recorded
    fraud_review  staff's review of signals: dismiss, escalate, pause and resume sales
    plans      a teacher's plan (their live subscription's, else Free) and their usage
    catalogue  the plan catalogue's Products and Prices at Stripe (`sync_plans`)
    subscriptions  a teacher's own plan: checkout, changing plan, the Customer Portal
    subscription_mirror  subscriptions, invoices and cards kept from Stripe's events
    caps       the active-student ledger and plan-cap states (per sale, and the periodic job)
    cap_emails  the emails telling a teacher where they stand against their plan's limit

Imports go one way: checkout and refunds use outcomes, which uses common;
checkout also uses connect and pricing.

Purchase states and the one way into each
-----------------------------------------

    pending --payment succeeded (checkout.session.completed paid, async succeeded,
              a paid charge seen first, or the session retrieved)--> paid
    pending --checkout.session.async_payment_failed--> failed
    pending --checkout.session.expired, or no session made--> expired ("abandoned")
    paid / partially refunded --refunds (ours or the dashboard's)--> partially refunded, refunded
    paid / partially refunded / refunded --charge.dispute.created--> disputed
    disputed --charge.dispute.closed--> back to paid / partially refunded / refunded

Every change locks the purchase row (`select_for_update`) and checks the
state it is in first, so a duplicated event finds its work done and returns,
and a reordered one either waits for its turn (it is retried) or carries
enough of Stripe's own state to apply in any order: a refund's amount only
ever rises (`max` of what is recorded and what Stripe says), and a refund
that arrives before the payment it refunds first records the payment from
the charge it carries. Emails go through the outbox under keys derived from
the purchase, inside the same transaction: one receipt, one refund email
per refund, whatever Stripe sends twice.
"""
