from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from allauth.account.signals import password_changed

        from accounts import receivers

        # allauth announces password changes only through this signal.
        password_changed.connect(receivers.end_other_sessions_on_password_change)
