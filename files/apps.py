from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files"

    def ready(self) -> None:
        # Each app above that gives files a meaning says who may download them in its own
        # downloads.py, found the way admin.py is, in INSTALLED_APPS (layer) order.
        autodiscover_modules("downloads")
