"""Where real sample images come from when no patient data is at hand (demo, benchmarks, tests).

Nothing is downloaded: the MNI152 2009a T1 (1 mm head with skull) ships inside the ``nilearn``
package, and a development checkout may have the project's real-image corpus beside it
(``../shared/data``) or named by ``$MEDSYNTH_SHARED_DATA``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

SHARED_DATA_ENV = "MEDSYNTH_SHARED_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def mean_head_t1_path() -> Path:
    """pydeface's mean head T1 (skull and scalp kept, MIT licence): the input of models that need a whole head."""
    spec = importlib.util.find_spec("pydeface")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("The sample head T1 comes with the 'pydeface' package; install it (pip install pydeface).")
    path = Path(spec.origin).parent / "data" / "mean_reg2mean.nii.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed pydeface package.")
    return path


def mni152_t1_path() -> Path:
    """The MNI152 2009a T1 shipped by the nilearn package (raises with the fix if absent)."""
    spec = importlib.util.find_spec("nilearn")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("The sample MNI152 T1 comes with the 'nilearn' package; install it (pip install nilearn).")
    path = Path(spec.origin).parent / "datasets" / "data" / "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed nilearn package.")
    return path


def shared_data_dir() -> Path | None:
    """The real-image corpus (``$MEDSYNTH_SHARED_DATA`` or ``shared/data`` beside the checkout), if present."""
    for candidate in (os.environ.get(SHARED_DATA_ENV), _REPO_ROOT.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "MANIFEST.tsv").is_file():
            return Path(candidate)
    return None
