"""Insight (layer 2, upper tier): profile indicators over the lake, the core segments, the
customer lifecycle and small ecosystem circles, served back to the console and the API."""
