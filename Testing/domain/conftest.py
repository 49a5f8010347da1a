"""Package-shipped real scans for the domain tests (no ../shared needed)."""

import pytest

from medsynth.io import read_image


@pytest.fixture(scope="session")
def brain_extracted_t1(mni152_t1_file):
    """nilearn's MNI152 2009a T1: a real skull-stripped brain, 1 mm."""
    return read_image(mni152_t1_file)


@pytest.fixture(scope="session")
def whole_head_t1(mean_head_file):
    """pydeface's mean head T1 (skull and face), from other scanners than the training data."""
    return read_image(mean_head_file)
