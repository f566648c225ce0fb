"""The default plan catalogue: Free, Pro and Studio, priced in USD, EUR and GBP.

Staff change it in the admin; `manage.py sync_plans` creates the Stripe
Products and Prices. Free's fee is the 5% every sale paid before plans existed.
"""

from decimal import Decimal

from django.db import migrations

PLANS = [
    # code, name, tagline, position, students, AI units, storage MB, live minutes, fee %
    ("free", "Free", "Everything you need to start teaching.", 0, 10, 50, 1024, 300, "5"),
    ("pro", "Pro", "For a growing teaching business.", 1, 100, 1000, 20480, 3000, "3"),
    ("studio", "Studio", "For schools and busy studios.", 2, 1000, 10000, 204800, 20000, "1"),
]
# Monthly and yearly prices in minor units (two months free on a year).
PRICES = {
    "pro": {"USD": (2900, 29000), "EUR": (2700, 27000), "GBP": (2400, 24000)},
    "studio": {"USD": (9900, 99000), "EUR": (9200, 92000), "GBP": (7900, 79000)},
}


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    PlanPrice = apps.get_model("billing", "PlanPrice")
    if Plan.objects.exists():
        return
    for code, name, tagline, position, students, units, storage, minutes, fee in PLANS:
        plan = Plan.objects.create(
            code=code,
            name=name,
            tagline=tagline,
            position=position,
            is_free=code == "free",
            max_active_students=students,
            ai_units_per_month=units,
            storage_mb=storage,
            live_minutes_per_month=minutes,
            platform_fee_percent=Decimal(fee),
        )
        for currency, (monthly, yearly) in PRICES.get(code, {}).items():
            PlanPrice.objects.create(plan=plan, interval="month", currency=currency, amount=monthly)
            PlanPrice.objects.create(plan=plan, interval="year", currency=currency, amount=yearly)


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_plans_limits_gmv_fraud")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
