"""Integration: the REST API under /api/v1, API tokens, idempotency keys."""
