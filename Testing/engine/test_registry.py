"""The registry: three places to find models, precedence, integrity, zip import."""

import json
import zipfile

import pytest

from medsynth.errors import ModelError
from medsynth.models import ModelRegistry
from medsynth.models.registry import BUILTIN_MODELS_DIR, HOME_ENV, MODELS_PATH_ENV
from model_factory import install_model, pointwise_graph


@pytest.fixture
def folders(tmp_path):
    return {"env": tmp_path / "env", "user": tmp_path / "user", "builtin": tmp_path / "builtin"}


def _registry(folders):
    return ModelRegistry([(label, folder) for label, folder in folders.items()])


def test_default_registry_looks_in_env_user_and_builtin(tmp_path, monkeypatch):
    install_model(tmp_path / "extra" / "m1", pointwise_graph(), id="from-env")
    install_model(tmp_path / "home" / "models" / "m2", pointwise_graph(), id="from-user")
    monkeypatch.setenv(MODELS_PATH_ENV, str(tmp_path / "extra"))
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))
    sources = {e.card.id: e.source for e in ModelRegistry.default().entries()}
    assert sources["from-env"] == "env"
    assert sources["from-user"] == "user"
    assert sources["demo-edges"] == "built-in"
    assert BUILTIN_MODELS_DIR.is_dir()


def test_first_folder_wins_for_the_same_id(folders):
    install_model(folders["user"] / "a", pointwise_graph(), id="same", version="2.0.0")
    install_model(folders["builtin"] / "a", pointwise_graph(), id="same", version="1.0.0")
    entry = _registry(folders).find("same")
    assert (entry.source, entry.card.version) == ("user", "2.0.0")


def test_broken_card_is_reported_without_hiding_other_models(folders):
    install_model(folders["user"] / "good", pointwise_graph(), id="good")
    broken = folders["user"] / "broken"
    broken.mkdir(parents=True)
    (broken / "card.json").write_text(json.dumps({"id": "broken"}))
    registry = _registry(folders)
    assert [e.card.id for e in registry.entries()] == ["good"]
    assert len(registry.problems) == 1 and "broken" in registry.problems[0]


def test_unknown_model_lists_the_available_ones(folders):
    install_model(folders["user"] / "good", pointwise_graph(), id="good")
    with pytest.raises(ModelError, match="available: good"):
        _registry(folders).find("missing")


def test_tampered_weights_are_refused_naming_the_file(folders):
    folder = install_model(folders["user"] / "m", pointwise_graph(), id="tampered")
    with open(folder / "model.onnx", "ab") as handle:
        handle.write(b"\0")
    entry = _registry(folders).find("tampered")
    with pytest.raises(ModelError, match=r"model\.onnx does not match its card"):
        entry.verify()


def test_missing_weights_are_refused(folders):
    folder = install_model(folders["user"] / "m", pointwise_graph(), id="gone")
    (folder / "model.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        _registry(folders).find("gone").verify()


def _zip_model(tmp_path, name="model.zip", **card_changes):
    folder = install_model(tmp_path / "src", pointwise_graph(), **card_changes)
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(folder / "card.json", "mymodel/card.json")
        archive.write(folder / "model.onnx", "mymodel/model.onnx")
    return path


def test_import_zip_installs_and_refuses_duplicates(tmp_path, folders):
    archive = _zip_model(tmp_path, id="zipped")
    registry = _registry(folders)
    entry = registry.import_zip(archive, destination_root=folders["user"])
    assert entry.folder == folders["user"] / "zipped"
    entry.verify()
    assert registry.find("zipped").source == "user"
    with pytest.raises(ModelError, match="already installed"):
        registry.import_zip(archive, destination_root=folders["user"])
    registry.import_zip(archive, replace=True, destination_root=folders["user"])
    assert sorted(p.name for p in folders["user"].iterdir()) == ["zipped"]  # no staging left behind


def test_import_refuses_zip_with_wrong_sha256(tmp_path, folders):
    source = install_model(tmp_path / "src", pointwise_graph(), id="bad")
    card = json.loads((source / "card.json").read_text())
    card["weights"]["sha256"] = "b" * 64
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("card.json", json.dumps(card))
        handle.write(source / "model.onnx", "model.onnx")
    with pytest.raises(ModelError, match="does not match its card"):
        _registry(folders).import_zip(archive, destination_root=folders["user"])
    assert not (folders["user"] / "bad").exists()


def test_import_refuses_non_zip_and_zip_without_weights(tmp_path, folders):
    not_zip = tmp_path / "model.zip"
    not_zip.write_text("hello")
    with pytest.raises(ModelError, match="not a zip"):
        _registry(folders).import_zip(not_zip, destination_root=folders["user"])
    empty = tmp_path / "card-only.zip"
    source = install_model(tmp_path / "s2", pointwise_graph(), id="noweights")
    with zipfile.ZipFile(empty, "w") as archive:
        archive.write(source / "card.json", "card.json")
    with pytest.raises(ModelError, match="no model.onnx"):
        _registry(folders).import_zip(empty, destination_root=folders["user"])


def test_import_never_extracts_paths_outside_the_model_folder(tmp_path, folders):
    archive = _zip_model(tmp_path, id="sneaky")
    with zipfile.ZipFile(archive, "a") as handle:
        handle.writestr("../../escaped.txt", "gotcha")
    _registry(folders).import_zip(archive, destination_root=folders["user"])
    assert not list(tmp_path.rglob("escaped.txt"))
    assert sorted(p.name for p in (folders["user"] / "sneaky").iterdir()) == ["card.json", "model.onnx"]
