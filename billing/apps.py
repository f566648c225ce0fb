from django.apps import AppConfig

from files import quotas


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from billing import selling
        from billing.services import plans

        selling.connect()
        quotas.provide(plans.storage_quota)
