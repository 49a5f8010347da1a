"""`make demo` on the package fallback (no ../shared): every output present, synthetic ones marked,
node names true to the inputs (a sample scan is not called a stroke scan or an IXI subject)."""

import json
import subprocess
import sys

import slicer

from conftest import REPO_ROOT

RUN_FALLBACK_DEMO = """
import sys
import medsynth.sample_data as sample_data
sample_data.shared_data_dir = lambda: None  # as on a fresh clone without ../shared
from MedSynthLib.demo import main
sys.argv = ["demo", sys.argv[1]]
main()
"""


def test_demo_on_package_fallback(tmp_path, headless):
    out = tmp_path / "demo"
    env_path = f"{REPO_ROOT / 'MedSynthExtension'}:{REPO_ROOT / 'MedSynthModules/MedSynth'}"
    done = subprocess.run([sys.executable, "-c", RUN_FALLBACK_DEMO, str(out)], capture_output=True, text=True,
                          timeout=900, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    for name in summary["files"]:  # files, and folders (a DICOM series) named with a trailing slash
        written = out / name
        present = any(written.iterdir()) if name.endswith("/") else written.is_file() and written.stat().st_size > 0
        assert present, name
    scene = slicer.mrmlScene
    assert scene.ReadFromMRB(str(out / "scene.mrb"))
    volumes = [scene.GetNthNodeByClass(i, "vtkMRMLVolumeNode") for i in range(scene.GetNumberOfNodesByClass("vtkMRMLVolumeNode"))]
    names = {v.GetName() for v in volumes}
    from MedSynthLib.demo import SAMPLE_NAMES
    assert names & set(SAMPLE_NAMES.values()), names
    assert not any("stroke" in n or "IXI" in n for n in names), names
    synthetic = [v for v in volumes if "(synthetic)" in v.GetName()]
    assert len(synthetic) >= 3, names  # sCT, future MRI, anomaly outputs
    assert all(v.GetAttribute("MedSynth.Synthetic") == "YES" for v in synthetic)
