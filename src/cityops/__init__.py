"""cityops: the operation and governance centre platform."""

__version__ = "0.1.0"
