"""MUSE region groups, regional volume tables and the literature rate table."""

import csv
import io

import numpy as np
import pytest

from medsynth.errors import InputError
from medsynth.tasks.future_regions import REGION_NAMES, group_labels, one_hot, region_index
from medsynth.tasks.future_volumes import TABLE_COLUMNS, volume_table, volumes_from_labels
from medsynth.training.future.literature import (DIAGNOSES, RATES, REFERENCE_AGE, age_factor, annual_rate,
                                                 literature_range)


def test_group_labels_maps_muse_labels_to_regions():
    labels = np.array([[[0, 1, 47, 48, 51, 31, 100, 207, 81, 59, 38, 4]]])
    grouped = group_labels(labels)
    expected = ["outside", "csf_external", "hippocampus", "hippocampus", "ventricles", "amygdala", "cortex", "cortex",
                "white_matter", "deep_grey", "cerebellum_brainstem", "ventricles"]
    assert [REGION_NAMES[i] for i in grouped.ravel()] == expected
    assert one_hot(grouped).sum(axis=0).min() == 1


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 17, 53, 2, 41]), "not MUSE/DLMUSE labels"),  # a FreeSurfer aseg
    (np.array([0.0, 47.5, 1.0]), "non-integer"),
    (np.array([0, 1, 100, 81]), "no hippocampus"),
])
def test_group_labels_refuses_what_is_not_a_muse_parcellation(labels, message):
    with pytest.raises(InputError, match=message):
        group_labels(labels)


def test_volume_table_reports_change_per_region_and_whole_brain():
    grouped = np.repeat(np.arange(len(REGION_NAMES), dtype=np.uint8), 1000)
    baseline = volumes_from_labels(grouped, voxel_ml=0.008)
    ratio = np.ones(grouped.shape)
    ratio[grouped == region_index("hippocampus")] = 0.9
    ratio[grouped == region_index("ventricles")] = 1.2
    after = volumes_from_labels(grouped, 0.008, ratio)
    table = volume_table(baseline, {2.0: after}, "labels")
    hippocampus = table.get("hippocampus", 2.0)
    assert hippocampus.baseline_ml == pytest.approx(8.0)
    assert hippocampus.change_percent == pytest.approx(-10.0)
    assert hippocampus.percent_per_year == pytest.approx(-5.0)
    assert table.get("ventricles", 2.0).change_percent == pytest.approx(20.0)
    whole = table.get("whole_brain", 2.0)
    assert whole.baseline_ml == pytest.approx(6 * 8.0)  # six brain regions of 8 mL
    assert whole.change_ml == pytest.approx(-0.8)
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert tuple(rows[0]) == TABLE_COLUMNS
    assert "outside" not in {row["region"] for row in rows}


def test_literature_rates_are_ordered_by_diagnosis_and_age_adjusted():
    for region in ("hippocampus", "amygdala", "cortex", "whole_brain"):
        cn, mci, ad = (annual_rate(region, d, REFERENCE_AGE) for d in DIAGNOSES)
        assert ad < mci < cn < 0
    cn, mci, ad = (annual_rate("ventricles", d, REFERENCE_AGE) for d in DIAGNOSES)
    assert ad > mci > cn > 0
    assert annual_rate("hippocampus", "AD", REFERENCE_AGE) == RATES["hippocampus"]["AD"].percent_per_year
    assert age_factor(REFERENCE_AGE + 20) == pytest.approx(2 * age_factor(REFERENCE_AGE))
    # only the normal-ageing part scales with age: the AD excess over controls is the same at 60 and 80
    excess = [annual_rate("hippocampus", "AD", a) - annual_rate("hippocampus", "CN", a) for a in (60, 80)]
    assert excess[0] == pytest.approx(excess[1])
    for region, by_diagnosis in RATES.items():
        for diagnosis in DIAGNOSES:
            low, high = literature_range(region, diagnosis, 60.0)
            assert low < annual_rate(region, diagnosis, 60.0) < high
