"""Enforcement supervision (执法监督): rules as data, flags with their evidence, and the
supervisor's case (督办) that follows each flag to its correction."""
