"""Slicer-side library shared by every MedSynth module.

Each file has one job: find the engine (:mod:`engine_path`), convert volumes between MRML and
SimpleITK (:mod:`volume_bridge`), place synthetic outputs in the scene with provenance
(:mod:`outputs`), show heat overlays (:mod:`overlays`), run long work off the GUI thread
(:mod:`background`), install onnxruntime on request (:mod:`dependencies`), and stand in for the
Slicer application where it cannot exist (:mod:`headless`). None of it imports Qt: module logic
built on it runs in Slicer, in ``Slicer --no-main-window``, and under pytest with ``slicer-core``.
"""

from MedSynthLib.engine_path import ensure_engine_importable

ensure_engine_importable()
