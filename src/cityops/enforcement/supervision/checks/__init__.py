"""The checks behind the rule kinds: each one query over every subject of its table (set-based,
through indexes), returning the hits with their evidence."""
