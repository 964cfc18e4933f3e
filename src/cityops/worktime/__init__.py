"""worktime context."""
