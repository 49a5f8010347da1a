"""Measurements of targeted synthesis: factor separability and downstream gain."""
