"""ingest context."""
