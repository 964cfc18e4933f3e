"""enforcement context: the four registries (legal basis, items, agencies, officers)."""
