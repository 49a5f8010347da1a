"""A stock Slicer has no onnxruntime: every module must still load, and Apply must ask to install it.

Each case runs in a fresh interpreter with ``sys.modules["onnxruntime"] = None`` (any import of it
raises ImportError), the real MRML of slicer-core, and thin named fakes for what only the Slicer
application provides (Qt, ScriptedLoadableModule, parameterNodeWrapper). A module-level
``import onnxruntime`` anywhere on the import path of a module file fails this test.
"""

import subprocess
import sys
import textwrap

import pytest

from conftest import MODULE_FOLDERS, REPO_ROOT

MODEL_PANELS = ["MedSynth", "MedSynthAnomaly", "MedSynthCT", "MedSynthFuture"]

PRELUDE = textwrap.dedent("""
    import sys, types
    sys.modules["onnxruntime"] = None
    sys.path[:0] = {paths!r}
    import slicer

    class FakeQtObject:  # qt.QTimer and friends: constructed at setup, never run here
        def __init__(self, *args, **kwargs): pass
        def __getattr__(self, name): return lambda *args, **kwargs: None
    qt = types.ModuleType("qt"); qt.__getattr__ = lambda name: FakeQtObject
    sys.modules["qt"] = qt; sys.modules["ctk"] = qt

    slm = types.ModuleType("slicer.ScriptedLoadableModule")
    class _Base:
        def __init__(self, *args, **kwargs): pass
    for name in ("ScriptedLoadableModule", "ScriptedLoadableModuleLogic", "ScriptedLoadableModuleWidget",
                 "ScriptedLoadableModuleTest"):
        setattr(slm, name, type(name, (_Base,), {{}}))
    pnw = types.ModuleType("slicer.parameterNodeWrapper")
    pnw.parameterNodeWrapper = lambda cls: cls
    pnw.Choice = lambda *choices: None
    sys.modules.update({{"slicer.ScriptedLoadableModule": slm, "slicer.parameterNodeWrapper": pnw}})
    slicer.ScriptedLoadableModule, slicer.parameterNodeWrapper = slm, pnw
""")


def _run(body: str) -> subprocess.CompletedProcess:
    paths = [str(REPO_ROOT / "MedSynthExtension")] + [str(p) for p in MODULE_FOLDERS]
    script = PRELUDE.format(paths=paths) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module", [p.name for p in MODULE_FOLDERS])
def test_module_file_and_logic_import_without_onnxruntime(module):
    done = _run(f"""
        import importlib, pkgutil
        importlib.import_module({module!r})
        lib = importlib.import_module({module + "Lib"!r})
        for info in pkgutil.iter_modules(lib.__path__):
            importlib.import_module(lib.__name__ + "." + info.name)
        assert sys.modules["onnxruntime"] is None
        print("imported")
    """)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr[-3000:]


@pytest.mark.parametrize("module", MODEL_PANELS)
def test_first_apply_reaches_the_install_prompt(module):
    """The widget's real onApply asks before installing; declining starts no job."""
    done = _run(f"""
        import importlib
        mod = importlib.import_module({module!r})
        widget = object.__new__(getattr(mod, {module + "Widget"!r}))
        widget.runner = types.SimpleNamespace(state=types.SimpleNamespace(busy=False),
                                              start=lambda *a: print("JOB STARTED"))
        asked = []
        def confirmOkCancelDisplay(message, windowTitle=None):  # the Qt dialog: the user declines
            asked.append(message)
            return False
        slicer.util.confirmOkCancelDisplay = confirmOkCancelDisplay
        widget.onApply()
        assert len(asked) == 1 and "onnxruntime" in asked[0], asked
        print("asked")
    """)
    assert done.returncode == 0 and "asked" in done.stdout, done.stderr[-3000:]
    assert "JOB STARTED" not in done.stdout


def test_engine_runtime_and_tasks_import_without_onnxruntime():
    """The engine imports onnxruntime only when a model is loaded (medsynth.runtime.onnx_model)."""
    done = _run("""
        import importlib, pkgutil
        import medsynth.runtime, medsynth.tasks
        for info in pkgutil.walk_packages(medsynth.tasks.__path__, "medsynth.tasks."):
            importlib.import_module(info.name)
        assert sys.modules["onnxruntime"] is None
        print("imported")
    """)
    assert done.returncode == 0 and "imported" in done.stdout, done.stderr[-3000:]
