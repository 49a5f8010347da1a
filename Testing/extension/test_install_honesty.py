"""What the README promises about installing matches the pins."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_demo_requirements_are_the_test_pins_without_training_or_test_tools():
    demo, full = _pins(REPO / "Testing/requirements-demo.txt"), _pins(REPO / "Testing/requirements.txt")
    assert demo and all(full.get(name) == version for name, version in demo.items()), "demo pin differs from the test pin"
    assert {"torch", "monai", "pytest", "onnx"} & set(demo) == set()


def test_python_range_matches_numpy_pin_and_readme():
    numpy = _pins(REPO / "Testing/requirements.txt")["numpy"]
    requires = re.search(r'requires-python = ">=3\.(\d+)"', (REPO / "MedSynthExtension/pyproject.toml").read_text())
    assert requires, "requires-python missing"
    if tuple(map(int, numpy.split(".")[:2])) >= (2, 3):  # numpy 2.3+ publishes wheels for 3.11+ only
        assert int(requires.group(1)) >= 11
    assert f"Python ≥ 3.{requires.group(1)}" in (REPO / "README.md").read_text()
    assert "download.pytorch.org/whl/cpu" in (REPO / "README.md").read_text()
