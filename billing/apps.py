from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from billing import selling
        from billing.services import plans
        from files import quotas

        selling.connect()
        quotas.provide(plans.storage_quota)
