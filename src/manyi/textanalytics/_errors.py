"""Exceptions raised by :mod:`manyi.textanalytics`.

::

    TextAnalyticsError
     ├── ModelError       a model file is missing, malformed or of an unknown format
     └── TaxonomyError    an aspect taxonomy file is invalid

Bad *comments* never raise: they are cleaned, flagged and analysed as far as they go.
"""

from __future__ import annotations


class TextAnalyticsError(Exception):
    """Base class of every error raised by :mod:`manyi.textanalytics`."""


class ModelError(TextAnalyticsError):
    """A model file is missing, malformed or of an unknown format."""


class TaxonomyError(TextAnalyticsError):
    """An aspect taxonomy is invalid (unknown key, empty phrase list, bad regular expression)."""
