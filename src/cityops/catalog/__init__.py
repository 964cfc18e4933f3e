"""catalog context."""
