"""The repository is a buildable Slicer extension, and nothing is silently left out of it.

These checks read the CMake lists, the Qt Designer files and the Python sources as text/AST:
they catch the breakages that would otherwise show only when Slicer builds the extension or a
clinician opens a panel (a missing file in the package, a widget the code expects but the .ui
lacks, an engine import of Qt or torch).
"""

import ast
import re
import struct
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "MedSynthExtension"
MODULES = sorted(p for p in (REPO / "MedSynthModules").iterdir() if p.is_dir() and not p.name.startswith("."))
FORBIDDEN_IN_ENGINE = {"slicer", "qt", "ctk", "vtk", "torch", "monai"}
SLICER_WIDGET_CLASSES = {
    "qMRMLWidget", "qMRMLNodeComboBox", "qMRMLSliderWidget", "qMRMLSubjectHierarchyTreeView", "qMRMLTableView",
    "qMRMLSegmentSelectorWidget", "qMRMLSequenceBrowserWidget", "ctkCollapsibleButton", "ctkSliderWidget",
    "ctkRangeWidget", "ctkPathLineEdit", "ctkDirectoryButton", "ctkCheckBox", "ctkComboBox", "ctkDoubleSpinBox",
    "ctkMenuButton", "ctkFittedTextBrowser", "QWidget", "QLabel", "QPushButton", "QProgressBar", "QListWidget",
    "QTextBrowser", "QCheckBox", "QSpinBox", "QDoubleSpinBox", "QComboBox", "QLineEdit", "QTableWidget",
    "QGroupBox", "QRadioButton", "QSlider", "QTextEdit", "QPlainTextEdit", "QFrame", "QButtonGroup",
    "QStackedWidget", "QTabWidget", "QToolButton", "QSplitter",
}


def _cmake_files(cmake: Path, variable: str) -> list[str]:
    text = cmake.read_text()
    block = re.search(rf"set\({variable}\s+(.*?)\)", text, re.S)
    assert block, f"{cmake} has no set({variable} ...)"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]


def test_every_engine_file_is_installed_by_the_cmake_lists():
    cmake = ENGINE / "CMakeLists.txt"
    listed_scripts = set(_cmake_files(cmake, "MEDSYNTH_ENGINE_SCRIPTS"))
    listed_resources = set(_cmake_files(cmake, "MEDSYNTH_ENGINE_RESOURCES"))
    python_files = {str(p.relative_to(ENGINE)) for p in (ENGINE / "medsynth").rglob("*.py") if "__pycache__" not in p.parts}
    builtin_models = ENGINE / "medsynth" / "models" / "builtin"
    data_files = {str(p.relative_to(ENGINE)) for p in (ENGINE / "medsynth").rglob("*")
                  if p.is_file() and (p.suffix in (".json", ".onnx") or builtin_models in p.parents)}
    assert python_files - listed_scripts == set(), "engine files missing from MedSynthExtension/CMakeLists.txt"
    assert listed_scripts - python_files == set(), "CMake lists files that do not exist"
    assert data_files - listed_resources == set(), "models/cards missing from MedSynthExtension/CMakeLists.txt"
    assert listed_resources - data_files == set()
    top = (REPO / "CMakeLists.txt").read_text()
    assert "add_subdirectory(MedSynthExtension)" in top


def test_top_level_cmake_is_a_slicer_extension():
    top = (REPO / "CMakeLists.txt").read_text()
    for needed in ("project(MedSynth)", "find_package(Slicer REQUIRED)", "include(${Slicer_USE_FILE})",
                   "${Slicer_EXTENSION_GENERATE_CONFIG}", "${Slicer_EXTENSION_CPACK}", "EXTENSION_DESCRIPTION",
                   "EXTENSION_CATEGORY", "EXTENSION_ICONURL", "EXTENSION_CONTRIBUTORS"):
        assert needed in top, needed
    for module in MODULES:
        assert f"add_subdirectory(MedSynthModules/{module.name})" in top


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_folder_is_complete(module):
    name = module.name
    cmake = (module / "CMakeLists.txt").read_text()
    assert "slicerMacroBuildScriptedModule" in cmake and "WITH_GENERIC_TESTS" in cmake
    assert f"set(MODULE_NAME {name})" in cmake
    for required in (f"{name}.py", f"Resources/UI/{name}.ui", f"Resources/Icons/{name}.png", "Resources/requirements.txt"):
        assert (module / required).is_file(), f"{name} lacks {required}"
    png = (module / f"Resources/Icons/{name}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24])[0] >= 32
    listed = set(_cmake_files(module / "CMakeLists.txt", "MODULE_PYTHON_SCRIPTS"))
    listed = {entry.replace("${MODULE_NAME}", name) for entry in listed}
    sources = {str(p.relative_to(module)) for p in module.rglob("*.py") if "__pycache__" not in p.parts}
    assert sources - listed == set(), f"{name}: Python files not installed by its CMakeLists"
    assert listed - sources == set()
    assert f"class {name}Test(" in (module / f"{name}.py").read_text(), "no Slicer self-test"
    assert len((module / f"{name}.py").read_text().splitlines()) <= 500, "module file too long: move work to its Lib"


def _ui_widgets(ui_file: Path) -> dict[str, str]:
    root = ElementTree.parse(ui_file).getroot()
    return {w.get("name"): w.get("class") for w in root.iter("widget")}


def _parameter_fields(source: str) -> set[str]:
    fields = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and any(getattr(d, "id", None) == "parameterNodeWrapper" for d in node.decorator_list):
            fields |= {item.target.id for item in node.body if isinstance(item, ast.AnnAssign)}
    return fields


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_ui_file_matches_the_code(module):
    name = module.name
    ui_file = module / f"Resources/UI/{name}.ui"
    widgets = _ui_widgets(ui_file)
    source = (module / f"{name}.py").read_text()
    used = set(re.findall(r"self\.ui\.(\w+)", source))
    assert used - set(widgets) == set(), f"{name}.py uses widgets that {ui_file.name} does not define"
    unknown_classes = {cls for cls in widgets.values() if cls not in SLICER_WIDGET_CLASSES}
    assert unknown_classes == set(), f"widget classes Slicer does not provide: {unknown_classes}"
    root = ElementTree.parse(ui_file).getroot()
    parameter_names = {prop.find("string").text for prop in root.iter("property") if prop.get("name") == "SlicerParameterName"}
    assert parameter_names - _parameter_fields(source) == set(), "SlicerParameterName not in the parameter node class"


def _scene_receivers(ui_file: Path) -> set[str]:
    """Widgets the .ui connects to the panel's mrmlSceneChanged(vtkMRMLScene*) signal."""
    root = ElementTree.parse(ui_file).getroot()
    top = root.find("widget").get("name")
    return {c.findtext("receiver") for c in root.iter("connection")
            if c.findtext("sender") == top and c.findtext("signal") == "mrmlSceneChanged(vtkMRMLScene*)"
            and c.findtext("slot") == "setMRMLScene(vtkMRMLScene*)"}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_every_mrml_widget_receives_the_scene(module):
    """A qMRML widget without the scene lists no nodes: the panel cannot select an input in Slicer.

    ``panel.setMRMLScene(scene)`` reaches a child only through a mrmlSceneChanged → setMRMLScene
    connection in the .ui; a direct ``self.ui.<name>.setMRMLScene(`` call in the code also counts.
    """
    name = module.name
    ui_file = module / f"Resources/UI/{name}.ui"
    top = ElementTree.parse(ui_file).getroot().find("widget").get("name")
    mrml_widgets = {w for w, cls in _ui_widgets(ui_file).items() if cls.startswith("qMRML") and w != top}
    source = (module / f"{name}.py").read_text()
    in_code = set(re.findall(r"self\.ui\.(\w+)\.setMRMLScene\(", source))
    missing = mrml_widgets - _scene_receivers(ui_file) - in_code
    assert missing == set(), f"{ui_file.name}: MRML widgets never given the scene: {sorted(missing)}"


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_engine_never_imports_slicer_qt_vtk_or_torch():
    offenders = {}
    for path in (ENGINE / "medsynth").rglob("*.py"):
        relative = path.relative_to(ENGINE / "medsynth")
        if "training" in relative.parts:
            continue
        bad = _imported_roots(path) & FORBIDDEN_IN_ENGINE
        if bad:
            offenders[str(path.relative_to(ENGINE))] = bad
    assert offenders == {}


def test_module_libraries_import_no_qt_except_the_widget_glue():
    """Logic must run headless: only job_runner.py (Qt timer glue) and the module files import qt."""
    offenders = {}
    for module in MODULES:
        for path in module.rglob("*.py"):
            if path.name in (f"{module.name}.py", "job_runner.py"):
                continue
            bad = _imported_roots(path) & {"qt", "ctk", "torch", "monai"}
            if bad:
                offenders[str(path.relative_to(REPO))] = bad
    assert offenders == {}
