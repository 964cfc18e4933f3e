"""`python -m cityops` runs the command line."""

from cityops.cli import app

app()
