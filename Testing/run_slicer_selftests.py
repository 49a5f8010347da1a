"""Run every MedSynth panel's ScriptedLoadableModuleTest (load → Apply → outputs) inside a real Slicer.

    Slicer --no-main-window --no-splash --python-script Testing/run_slicer_selftests.py [Module ...]

Registers the modules under MedSynthModules/ with Slicer's module factory (as the Extension Wizard
does), runs each module's ``<Name>Test().runTest()``, prints one PASS/FAIL line per module and exits
with the number of failures. The CI of this project has no Slicer application; this is for a
maintainer's machine and Slicer's extension build.
"""

import sys
import traceback
from pathlib import Path

import qt
import slicer

MODULES = Path(__file__).resolve().parents[1] / "MedSynthModules"
ORDER = ["MedSynth", "MedSynthReader", "MedSynthCT", "MedSynthAnomaly", "MedSynthFuture"]  # MedSynth first: others depend on it


def load_modules(names: list[str]) -> None:
    factory = slicer.app.moduleManager().factoryManager()
    for name in names:
        if not hasattr(slicer.modules, name.lower()):
            factory.registerModule(qt.QFileInfo(str(MODULES / name / f"{name}.py")))
    factory.loadModules(names)


def main(argv: list[str]) -> int:
    names = [n for n in argv if n in ORDER] or ORDER
    load_modules(ORDER)
    failures = 0
    for name in names:
        module = sys.modules.get(name) or __import__(name)
        try:
            getattr(module, f"{name}Test")().runTest()
            print(f"PASS {name}")
        except Exception:
            failures += 1
            traceback.print_exc()
            print(f"FAIL {name}")
    return failures


if __name__ == "__main__":
    slicer.util.exit(main(sys.argv[1:]))
