"""The headless stand-in must never replace a real Slicer's scene and module manager."""

import pytest
import slicer


def test_headless_refuses_inside_a_real_slicer(monkeypatch):
    from MedSynthLib.headless import start_headless_slicer

    real_modules, real_scene = object(), object()
    monkeypatch.setattr(slicer, "app", object(), raising=False)  # what the Slicer application defines
    monkeypatch.setattr(slicer, "modules", real_modules, raising=False)
    monkeypatch.setattr(slicer, "mrmlScene", real_scene, raising=False)
    with pytest.raises(RuntimeError, match="inside Slicer"):
        start_headless_slicer()
    assert slicer.modules is real_modules and slicer.mrmlScene is real_scene
