from django.apps import AppConfig

from billing import metering
from courses import ai as course_ai
from privacy import explain as policy_explain


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "Course AI"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from ai import client, links, services
        from ai.views import policies

        # Billing sits below this app: the plan page counts AI units through its meter hook.
        metering.provide("ai", services.units_since, available=client.configured)
        # Course pages sit below this app too: they offer AI actions through their hook.
        course_ai.provide(available=client.configured, links=links.for_place)
        # So do the policy pages: "Explain this page" plugs in through theirs.
        policy_explain.provide(available=client.configured, url_for=policies.explain_url)
