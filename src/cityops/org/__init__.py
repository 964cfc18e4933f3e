"""org context."""
