"""Performance indicators (绩效评价) derived from the case steps."""
