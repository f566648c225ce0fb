from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PolicyAcceptance(models.Model):
    """One person's acceptance of one version of one policy document.

    The version is the sha256 of the document's text. When the account is
    deleted the row loses its link to the person and is kept, anonymised, for
    24 months as evidence of what was agreed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="policy_acceptances",
    )
    document = models.CharField(_("document"), max_length=40)
    sha256 = models.CharField(_("version"), max_length=64)
    accepted_at = models.DateTimeField(_("accepted"), default=timezone.now)
    user_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "document", "sha256"], name="privacy_acceptance_once_per_version"
            )
        ]
        indexes = [models.Index(fields=["user_deleted_at"])]

    def __str__(self) -> str:
        return f"{self.document} {self.sha256[:12]}"
