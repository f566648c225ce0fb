"""Every environment variable the settings read is documented."""

import re
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
# env_str("NAME", ...) and its siblings from core.env.
READ = re.compile(r'env_(?:str|bool|int|list)\(\s*"([A-Z][A-Z0-9_]*)"')
CONFIG_FILES = [BASE_DIR / "config" / "settings.py", BASE_DIR / "config" / "gunicorn.py"]


def variables_read() -> set[str]:
    return {name for path in CONFIG_FILES for name in READ.findall(path.read_text("utf-8"))}


def test_it_finds_the_variables_the_settings_read() -> None:
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PORT"} <= variables_read()


def test_it_documents_every_variable_in_the_env_example() -> None:
    example = (BASE_DIR / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))

    assert variables_read() - documented == set()


def test_it_lists_every_variable_in_the_readme() -> None:
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", readme, flags=re.MULTILINE))

    assert variables_read() - listed == set()
