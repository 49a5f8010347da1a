"""Validation dossier of a generator: card, domain, metrics and pictures against declared criteria, in one report."""
