"""Window/level presets for volumes MedSynth makes (values of Slicer's VolumeDisplayPresets.json)."""

from __future__ import annotations

#: name → (window, level) in HU
CT_WINDOWS = {
    "brain": (100.0, 50.0),
    "bone": (1000.0, 400.0),
    "air": (1000.0, -426.0),
    "abdomen": (350.0, 40.0),
}


def apply_ct_window(volume_node, preset: str) -> None:
    """Show ``volume_node`` with a CT window preset (``brain``, ``bone``, ``air``, ``abdomen``)."""
    if preset not in CT_WINDOWS:
        raise ValueError(f"Unknown CT window '{preset}'; choose one of {', '.join(CT_WINDOWS)}.")
    display = volume_node.GetDisplayNode()
    if display is None:
        volume_node.CreateDefaultDisplayNodes()
        display = volume_node.GetDisplayNode()
    window, level = CT_WINDOWS[preset]
    display.AutoWindowLevelOff()
    display.SetWindowLevel(window, level)
