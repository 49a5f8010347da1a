"""Training side of the future-MRI task: simulator, BIDS round trip, calibration, network, export."""

import numpy as np
import pytest
import SimpleITK as sitk

from future_helpers import phantom
from medsynth.errors import InputError
from medsynth.tasks.future_regions import ACTIVE_REGIONS
from medsynth.training.future.bids import BidsWriter, read_longitudinal, regional_volumes
from medsynth.training.future.calibrate import log_rate
from medsynth.training.future.dataset import build_examples, measured_log_rates
from medsynth.training.future.literature import annual_rate
from medsynth.training.future.simulate import ProgressionSimulator
from medsynth.training.future.spec import FutureSpec


@pytest.fixture(scope="module")
def simulator():
    return ProgressionSimulator(*phantom())


def test_simulated_follow_up_has_the_literature_rates_and_keeps_the_skull(simulator):
    follow_up = simulator.follow_up("AD", 72.0, 3.0)
    for region in ("hippocampus", "ventricles", "white_matter"):
        target = 100 * np.expm1(3 * log_rate(annual_rate(region, "AD", 72.0)) / 100) / 3
        assert follow_up.measured_percent_per_year(region) == pytest.approx(target, rel=0.1)
    intracranial = [sum(v for k, v in volumes.items() if k != "outside")
                    for volumes in (follow_up.baseline_ml, follow_up.follow_up_ml)]
    assert intracranial[1] == pytest.approx(intracranial[0], rel=0.01)
    changed = sitk.GetArrayFromImage(follow_up.image) != sitk.GetArrayFromImage(simulator.image)
    assert changed.any()


def test_zero_years_simulates_no_change(simulator):
    follow_up = simulator.follow_up("AD", 72.0, 0.0)
    assert np.array_equal(sitk.GetArrayFromImage(follow_up.image), sitk.GetArrayFromImage(simulator.image))
    assert follow_up.follow_up_ml == pytest.approx(follow_up.baseline_ml)


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory, simulator):
    root = tmp_path_factory.mktemp("bids")
    writer = BidsWriter(root, "sim", "test data")
    baseline_mm3 = simulator.label_volumes_mm3()
    for number, (diagnosis, years) in enumerate((("CN", 2.0), ("AD", 4.0))):
        follow_up = simulator.follow_up(diagnosis, 70.0, years)
        writer.add_subject(f"P{number}", "F", "phantom", [
            ("01", 70.0, diagnosis, simulator.image, simulator.labels, baseline_mm3),
            ("02", 70.0 + years, diagnosis, follow_up.image, follow_up.labels, follow_up.follow_up_label_mm3)])
    return root


def test_bids_round_trip_gives_pairs_with_their_conditions_and_rates(bids_root, simulator):
    pairs = read_longitudinal(bids_root, "sim")
    assert [(p.subject, p.sex, p.baseline.diagnosis, p.years) for p in pairs] == [("P0", "F", "CN", 2.0), ("P1", "F", "AD", 4.0)]
    rates = measured_log_rates(pairs[1])
    expected = simulator.follow_up("AD", 70.0, 4.0)
    for region in ACTIVE_REGIONS:
        assert rates[region] == pytest.approx(100 * np.log(expected.follow_up_ml[region] / expected.baseline_ml[region]) / 4,
                                              abs=1e-3)
    counted = regional_volumes(pairs[0].baseline.__class__(**{**pairs[0].baseline.__dict__, "morph": None}))
    assert counted["hippocampus"] == pytest.approx(expected.baseline_ml["hippocampus"])


def test_examples_recover_the_simulator_sources(bids_root, simulator):
    anatomies, examples = build_examples(read_longitudinal(bids_root, "sim"), FutureSpec(), log=lambda _: None)
    assert len(anatomies) == 1 and len(examples) == 2
    sources = simulator.sources("AD", 70.0)
    assert examples[1].sources == pytest.approx([sources[name] for name in ACTIVE_REGIONS], rel=0.05, abs=0.05)
    assert examples[0].condition[0] == pytest.approx((70.0 - 72.0) * 0.05)


@pytest.mark.parametrize("edit, message", [
    (lambda root: (root / "participants.tsv").unlink(), "participants.tsv"),
    (lambda root: (root / "sub-P0" / "sub-P0_sessions.tsv").write_text("session_id\tage\tdiagnosis\nses-01\t70\tFTD\n"),
     "use CN, MCI or AD"),
    (lambda root: (root / "sub-P0" / "sub-P0_sessions.tsv").write_text("session_id\tdiagnosis\nses-01\tCN\n"), "age"),
])
def test_bids_reader_explains_what_is_wrong(bids_root, tmp_path, edit, message):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(bids_root, copy)
    edit(copy)
    with pytest.raises(InputError, match=message):
        read_longitudinal(copy, "sim")
    with pytest.raises(InputError, match="derivatives"):
        read_longitudinal(bids_root, "no-such-pipeline")


def test_network_output_is_zero_at_zero_years_and_linear_in_years():
    import torch

    from medsynth.training.future.model import NetConfig, build_model

    spec = FutureSpec(patch_size=(16, 16, 16))
    torch.manual_seed(0)
    model = build_model(spec, NetConfig(channels=(4, 8), hidden=8)).eval()
    image = torch.rand(1, 1, 16, 16, 16)
    outputs = {}
    for years in (0.0, 2.0, 4.0):
        condition = torch.from_numpy(spec.condition_vector(75.0, "M", "MCI", years)[None])
        with torch.no_grad():
            outputs[years] = model(image, condition)
    assert torch.count_nonzero(outputs[0.0][:, 0]) == 0
    assert torch.allclose(outputs[4.0][:, 0], 2 * outputs[2.0][:, 0], rtol=1e-5, atol=1e-6)
    assert torch.count_nonzero(outputs[2.0][:, 0]) > 0
    assert torch.allclose(outputs[2.0][:, 1:].sum(dim=1), torch.ones(1, 16, 16, 16), atol=1e-5)


def test_export_keeps_torch_and_onnxruntime_in_agreement(tmp_path):
    import torch

    from medsynth.training.future.export import conditional_parity, export_model
    from medsynth.training.future.model import NetConfig, build_model

    spec = FutureSpec(patch_size=(16, 16, 16))
    torch.manual_seed(1)
    model = build_model(spec, NetConfig(channels=(4, 8), hidden=8)).eval()
    path = export_model(model, spec, tmp_path / "model.onnx")
    volume = np.random.default_rng(0).random((1, 20, 24, 18)).astype(np.float32)
    report = conditional_parity(model, path, volume, spec.condition_vector(80.0, "F", "AD", 5.0), spec)
    assert report.max_abs_diff < 1e-4
    assert report.voxels == 10 * 20 * 24 * 18


class _FixedRegions:
    """Stands in for a trained network: region logits that are a (blurred) copy of the labels."""

    def __init__(self, grouped, blur):
        import torch
        from scipy import ndimage as ndi

        from medsynth.tasks.future_regions import one_hot

        soft = np.stack([ndi.gaussian_filter(channel, blur) if blur else channel for channel in one_hot(grouped)])
        self.logits = torch.from_numpy(np.log(soft + 1e-4).astype(np.float32))

    def eval(self):
        return self

    def regions(self, batch):
        """The phantom fits in one patch, padded (centred) to the patch size: pad the logits alike, as outside."""
        import torch

        pads = [(p - s) // 2 for p, s in zip(batch.shape[2:], self.logits.shape[1:])]
        padded = torch.full((self.logits.shape[0], *batch.shape[2:]), float(np.log(1e-4)))
        padded[0] = 0.0
        padded[(slice(None), *(slice(p, p + s) for p, s in zip(pads, self.logits.shape[1:])))] = self.logits
        return padded[None].expand(len(batch), *padded.shape)


def test_stage_two_refit_compensates_blurred_regions(bids_root):
    from medsynth.training.future.refit import refit_targets

    spec = FutureSpec()
    anatomies, examples = build_examples(read_longitudinal(bids_root, "sim"), spec, log=lambda _: None)
    sharp = refit_targets(_FixedRegions(anatomies[0].grouped, 0), anatomies, examples, spec, log=lambda _: None)
    blurred = refit_targets(_FixedRegions(anatomies[0].grouped, 1.5), anatomies, examples, spec, log=lambda _: None)
    hippocampus = ACTIVE_REGIONS.index("hippocampus")
    assert sharp[1].sources == pytest.approx(examples[1].sources, rel=0.05, abs=0.05)
    assert abs(blurred[1].sources[hippocampus]) > 1.2 * abs(examples[1].sources[hippocampus])
