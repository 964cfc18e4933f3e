"""The four registries of the "1" brain: legal basis, enforcement items, agencies, officers."""
