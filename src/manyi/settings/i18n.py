"""Languages, time zones and translation catalogues."""

from django.utils.translation import gettext_lazy as _

from .base import BASE_DIR
from .env import ENV

LANGUAGE_CODE = ENV.language_code
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = ENV.time_zone
LANGUAGE_COOKIE_NAME = "manyi_language"
