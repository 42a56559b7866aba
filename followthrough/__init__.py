"""followthrough: track what organisations do with evaluation recommendations."""

__version__ = "0.1.0"
