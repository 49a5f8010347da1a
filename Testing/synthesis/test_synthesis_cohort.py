"""End to end at toy size: train the appearance model, synthesize a cohort, check manifest, marking,
resume, factor limits and bad input; and the factor separability the design promises."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from medsynth.benchmarks.synthesis.separability import measure_separability, ssim_outside, tissue_dice
from medsynth.models.card import load_card
from medsynth.models.registry import ModelEntry
from medsynth.runtime.onnx_model import OnnxGenerator
from medsynth.tasks.synthesis.anatomy import find_anatomy, load_healthy
from medsynth.tasks.synthesis.appearance import LearnedAppearance, ProceduralAppearance
from medsynth.tasks.synthesis.compose import synthesize_case
from medsynth.tasks.synthesis.factors import factor_space, sample_factors
from medsynth.tasks.synthesis.regions import region_number
from medsynth.tasks.synthesis.shapes import load_shapes, section_area_mm2


def _cli(args, models: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if models is not None:
        env["MEDSYNTH_MODELS_PATH"] = str(models)
    return subprocess.run([sys.executable, "-m", "medsynth", *args], capture_output=True, text=True, env=env)


def _cohort_args(material, out: Path, n: int, *extra: str) -> list[str]:
    return ["synthesize", "cohort", "--n", str(n), "--out", str(out), "--anatomy", str(material["images"]),
            "--anatomy-labels", str(material["labels"]), "--lesions", str(material["shapes"]), "--seed", "3", *extra]


def test_trained_card_has_factors_realism_and_parity(toy_model):
    card = load_card(toy_model / "card.json")
    assert card.task == "synthesis"
    metrics = card.raw["validation"]["metrics"]
    for key in ("realism_auc_learned", "realism_auc_procedural"):
        assert 0.0 <= metrics[key] <= 1.0
    assert card.raw["validation"]["parity_max_abs_diff"] < 1e-3
    names = {d["name"] for d in card.raw["factors"]["definitions"]}
    assert {"class", "lesion_type", "lesion_volume_ml", "region", "anatomy", "contrast_gamma", "noise_sd"} <= names


def test_cohort_manifest_labels_marking_and_resume(material, toy_model, tmp_path):
    out = tmp_path / "cohort"
    args = _cohort_args(material, out, 4, "--model", "toy-synthesis", "--factor", "class=lesion",
                        "--factor", "lesion_volume_ml=2-10", "--factor", "region=temporal")
    result = _cli(args, toy_model.parent)
    assert result.returncode == 0, result.stderr
    with open(out / "manifest.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    anatomy = {s.name: s for s in find_anatomy(material["images"], material["labels"])}
    for row in rows:
        assert row["class"] == "lesion" and row["region"] == "temporal" and 2 <= float(row["lesion_volume_ml"]) <= 10
        image = sitk.ReadImage(str(out / row["image"]))
        assert "SYNTHETIC" in image.GetMetaData("descrip")
        label = sitk.GetArrayFromImage(sitk.ReadImage(str(out / row["label"])))[0]
        assert label.sum() * 4.0 == pytest.approx(float(row["lesion_area_mm2"]))
        regions = load_healthy(anatomy[row["anatomy"]]).regions[int(row["slice_index"])]
        centre = tuple(int(v) for v in row["lesion_centre_rc"].split())
        assert regions[centre] == region_number("temporal")
        assert float(row["lesion_volume_ml_measured"]) == pytest.approx(float(row["lesion_volume_ml"]), rel=0.25)
    assert json.loads((out / "provenance.json").read_text())["synthetic"] is True
    stamps = {p: p.stat().st_mtime_ns for p in (out / "images").iterdir()}
    again = _cli([*args[:3], "6", *args[4:]], toy_model.parent)  # the same request, two cases more
    assert again.returncode == 0, again.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items()), "finished cases were made again"
    assert len(list((out / "images").iterdir())) == 6


def test_bad_factors_fail_with_one_line(material, tmp_path):
    for factor, words in (("colour=red", "Unknown factor"), ("lesion_volume_ml=500", "outside"),
                          ("region=elbow", "not among")):
        result = _cli(_cohort_args(material, tmp_path / "bad", 1, "--appearance", "procedural", "--factor", factor))
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def setup(material, toy_model):
    sources = find_anatomy(material["images"], material["labels"])
    space = factor_space([s.name for s in sources])
    painter = LearnedAppearance(OnnxGenerator(ModelEntry(load_card(toy_model / "card.json"), toy_model, "test")))
    return {s.name: load_healthy(s) for s in sources}, load_shapes(material["shapes"]), space, painter


def _case(setup, index: int, **fixed):
    volumes, shapes, space, painter = setup
    values = {**sample_factors(space, 7, index), "class": "lesion", "region": "parietal", **fixed}
    return synthesize_case(volumes[values["anatomy"]], shapes, painter, values, 7, index), values


@pytest.mark.parametrize("index", range(3))
def test_lesion_size_changes_only_the_lesion(setup, index):
    small, _ = _case(setup, index, lesion_volume_ml=2.0)
    large, _ = _case(setup, index, lesion_volume_ml=8.0)
    assert large.label.sum() > 2 * small.label.sum()
    assert small.measured["lesion_centre_rc"] == large.measured["lesion_centre_rc"]  # same place, other size
    assert ssim_outside(small, large) >= 0.98
    assert not np.allclose(small.image, large.image)


@pytest.mark.parametrize("index", range(3))
def test_style_keeps_anatomy_and_label(setup, index):
    plain, _ = _case(setup, index, contrast_gamma=1.0, blur_mm=0.0, noise_sd=0.0)
    styled, _ = _case(setup, index, contrast_gamma=1.3, blur_mm=1.0, noise_sd=0.03)
    assert np.array_equal(plain.label, styled.label) and np.array_equal(plain.healthy, styled.healthy)
    assert not np.allclose(plain.image, styled.image)
    assert tissue_dice(plain.image, plain.image, plain.brain) == 1.0


def test_separability_report_over_random_cases(setup):
    volumes, shapes, space, painter = setup
    summary = measure_separability(volumes, shapes, painter, space, cases=3, seed=2).summary()
    assert summary["size_change_ssim_outside_lesion"]["min"] >= 0.98
    assert summary["anatomy_change_lesion_area_spread"]["max"] <= 0.10
    assert 0.0 < summary["style_change_tissue_dice"]["mean"] <= 1.0


def test_anatomy_keeps_lesion_size(setup):
    volumes = setup[0]
    areas = [_case(setup, 0, anatomy=name, lesion_volume_ml=5.0)[0].label.sum() * 4.0 for name in volumes]
    assert max(areas) <= 1.1 * min(areas)
    assert min(areas) == pytest.approx(section_area_mm2(5.0), rel=0.15)


def test_procedural_baseline_paints_the_asked_contrast(setup):
    volumes, shapes, space, _ = setup
    values = {**sample_factors(space, 1, 0), "class": "lesion", "region": "frontal", "lesion_contrast": 0.4,
              "contrast_gamma": 1.0, "blur_mm": 0.0, "noise_sd": 0.0}
    case = synthesize_case(volumes[values["anatomy"]], shapes, ProceduralAppearance(), values, 1, 0)
    reference = np.median(case.healthy[case.brain])
    assert np.median(case.image[case.label > 0]) == pytest.approx(0.4 * reference, rel=0.15)


def test_dask_run_writes_the_same_cases_as_a_serial_run(material, tmp_path):
    pytest.importorskip("distributed", reason="Dask runs need the 'distributed' package")
    outputs = {}
    for name, extra in (("serial", []), ("dask", ["--workers", "1"])):
        result = _cli(_cohort_args(material, tmp_path / name, 2, "--appearance", "procedural", *extra))
        assert result.returncode == 0, result.stderr
        outputs[name] = [sitk.GetArrayFromImage(sitk.ReadImage(str(p))) for p in sorted((tmp_path / name / "images").iterdir())]
    assert len(outputs["dask"]) == 2
    assert all(np.array_equal(a, b) for a, b in zip(outputs["serial"], outputs["dask"]))
