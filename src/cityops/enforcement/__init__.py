"""enforcement context (123N): the registries, inspections, penalty cases, documents and
supervision, each a subpackage of the same shape."""
