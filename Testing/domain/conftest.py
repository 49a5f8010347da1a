"""Package-shipped real scans for the domain tests (no ../shared needed)."""

import importlib.util
from pathlib import Path

import pytest

from medsynth.io import read_image


def _package_file(package: str, inner: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        pytest.skip(f"{package} is not installed (pip install -r Testing/requirements.txt)")
    path = Path(spec.origin).parent / inner
    if not path.is_file():
        pytest.skip(f"{path} is missing from the installed {package}")
    return path


@pytest.fixture(scope="session")
def brain_extracted_t1():
    """nilearn's MNI152 2009a T1: a real skull-stripped brain, 1 mm."""
    return read_image(_package_file("nilearn", "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"))


@pytest.fixture(scope="session")
def whole_head_t1():
    """pydeface's mean head T1 (skull and face), from other scanners than the training data."""
    return read_image(_package_file("pydeface", "data/mean_reg2mean.nii.gz"))
