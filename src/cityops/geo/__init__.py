"""geo context."""
