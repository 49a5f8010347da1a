"""Qt-free logic of the MedSynthFuture module (tested headless against real MRML).

:mod:`.conditions` checks the condition fields against the model card (what the panel shows),
:mod:`.timepoints` builds the "years" Sequence and its browser, :mod:`.volume_table` the table
node of regional volumes, and :mod:`.future_logic` ties them to the engine's
:func:`medsynth.tasks.future.predict_future`. The shared Slicer-side helpers (engine path,
volume bridge, outputs with provenance, overlays, background jobs) come from ``MedSynthLib``.
"""

import MedSynthLib  # noqa: F401  (makes the engine package importable, as every MedSynth module does)
