"""Django settings for Manyi, split by concern; every value comes from ``settings.env``."""

from .base import *  # noqa: F403
from .database import *  # noqa: F403
from .i18n import *  # noqa: F403
from .security import *  # noqa: F403
