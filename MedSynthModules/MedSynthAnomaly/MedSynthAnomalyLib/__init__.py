"""Qt-free library of the MedSynthAnomaly module: the anomaly logic and what the panel shows.

Shared Slicer-side pieces (volume bridge, provenance, overlays, background jobs) come from the
MedSynth module's ``MedSynthLib``, which also makes the ``medsynth`` engine importable.
"""

import MedSynthLib  # noqa: F401  (engine on sys.path; see MedSynthLib.engine_path)
