"""Rules: when a response or a feedback record matches a condition, open a case, notify, tag or re-survey.

A rule is data: a JSON condition tree and a list of actions, validated on save and kept as
immutable versions. Evaluation runs in the background after commit and once more in a periodic
catch-up, and is idempotent: a source matches a rule at most once, and opens at most one case.
"""
