"""Notifications: e-mail, signed webhooks and chat-bot messages, each with a delivery log.

Other apps call :func:`manyi.notifications.actions.notify`; the app depends on nothing of theirs
(a case is stored as a plain ``case_id``), so the dependency runs one way.
"""
