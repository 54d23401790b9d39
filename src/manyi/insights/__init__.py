"""Insights: cached key-driver analyses of each survey's rating matrix, refreshed on a schedule.

The statistics live in the pure :mod:`manyi.analytics.drivers`; this app reads the answers a reader
may see, runs the analysis, keeps the result per survey, org unit and segmentation, and recomputes
it when new responses arrive (``PERIODIC`` in :mod:`manyi.insights.tasks`).
"""
