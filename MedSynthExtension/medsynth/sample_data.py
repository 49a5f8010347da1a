"""Where real sample images come from when no patient data is at hand (demo, benchmarks, tests).

Nothing is downloaded: a checkout carries one small real whole-head T1 (``Testing/data``), the MNI152 2009a
T1 (1 mm, a skull-stripped brain) ships inside the ``nilearn`` package, a whole-head mean T1 inside
``pydeface``, and a development checkout may have the project's real-image corpus beside it
(``../shared/data``) or named by ``$MEDSYNTH_SHARED_DATA``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

SHARED_DATA_ENV = "MEDSYNTH_SHARED_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def mni152_t1_path() -> Path:
    """The MNI152 2009a T1 shipped by the nilearn package (raises with the fix if absent)."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("The sample MNI152 T1 comes with the 'nilearn' package; install it (pip install nilearn).")
    path = Path(spec.origin).parent / "datasets" / "data" / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed nilearn package.")
    return path


def whole_head_t1_path() -> Path:
    """A whole-head T1 (skull and scalp kept: inside every MR model's domain).

    A checkout's own real clinical head (``Testing/data/head_mr_skull_2mm.nii.gz``, MIT), else pydeface's
    mean head (an installed package), else the MNI152 brain.
    """
    committed = _REPO_ROOT / "Testing" / "data" / "head_mr_skull_2mm.nii.gz"
    if committed.is_file():
        return committed
    spec = importlib.util.find_spec("pydeface")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "data" / "mean_reg2mean.nii.gz"
        if path.is_file():
            return path
    return mni152_t1_path()


def shared_data_dir() -> Path | None:
    """The real-image corpus (``$MEDSYNTH_SHARED_DATA`` or ``shared/data`` beside the checkout), if present."""
    for candidate in (os.environ.get(SHARED_DATA_ENV), _REPO_ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "MANIFEST.tsv").is_file():
            return Path(candidate)
    return None
