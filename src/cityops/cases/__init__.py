"""cases context."""
