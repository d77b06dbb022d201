"""Channel: the REST API under /api/v1 (Django Ninja), a thin adapter over domain services."""
