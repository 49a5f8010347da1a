"""Benchmarks: labelled test sets built from real images, and the code that scores methods on them."""
