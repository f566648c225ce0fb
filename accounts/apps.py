from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry is.
        from allauth.account.signals import password_changed

        from accounts import receivers
        from accounts.models import User

        # allauth announces password changes only through this signal.
        password_changed.connect(receivers.end_other_sessions_on_password_change)
        # Every change to a user's row drops the copy signed-in requests read (user_cache).
        post_save.connect(receivers.forget_changed_user, sender=User)
        post_delete.connect(receivers.forget_changed_user, sender=User)
