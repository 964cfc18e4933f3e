"""auth context."""
