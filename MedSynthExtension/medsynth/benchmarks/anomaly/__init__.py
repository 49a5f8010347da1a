"""Anomaly-detection benchmark: real lesion shapes implanted into held-out healthy scans, k-space
artefacts (motion, ghosting, spike) at graded severities, and the evaluation of anomaly maps and
scan-level artefact scores on it (numpy + SimpleITK; no torch)."""
