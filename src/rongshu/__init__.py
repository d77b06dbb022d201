"""rongshu (榕树): an open-source ecosystem-banking platform."""

__version__ = "0.1.0"
