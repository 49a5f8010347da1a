"""Under umask 022 every file the command line and batch write is readable by group and others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from bad_inputs import ct_values, write


def _run(argv: list[str], cwd: Path) -> None:
    env = {**os.environ, "MEDSYNTH_HOME": str(cwd / "home"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "medsynth", *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0, done.stderr


def test_outputs_follow_umask_022(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    write(tmp_path / "cases" / "a.nii.gz")
    write(tmp_path / "ct.nii.gz", ct_values())
    _run(["batch", "run-model", "cases", "bout", "--model", "demo-edges"], tmp_path)
    _run(["export-dicom", "ct.nii.gz", "dicom"], tmp_path)
    written = [p for folder in ("bout", "dicom") for p in (tmp_path / folder).rglob("*")]
    assert len(written) >= 3
    assert stat.S_IMODE((tmp_path / "dicom").stat().st_mode) & 0o055 == 0o055
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o044 == 0o044, f"{path.name} has mode {oct(mode)}"
