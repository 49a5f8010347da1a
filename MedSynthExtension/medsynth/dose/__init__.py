"""Dose evaluation of a synthetic CT with an open treatment-planning engine (optional extra ``dose``)."""
