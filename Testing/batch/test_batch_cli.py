"""``medsynth batch`` end to end: a local Dask cluster from --workers, per-case CSV, exit status, resume."""

from __future__ import annotations

import csv

import pytest

from medsynth.cli import main
from medsynth.models.registry import MODELS_PATH_ENV


def test_cli_batch_on_a_local_cluster_then_resumes(small_cohort, test_models_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(MODELS_PATH_ENV, str(test_models_dir))
    ids = sorted(p.name[: -len(".nii.gz")] for p in small_cohort.glob("*.nii.gz"))
    table = tmp_path / "subjects.csv"
    table.write_text("case_id,age\n" + "".join(f"{case},{60 + i}\n" for i, case in enumerate(ids[:2])))
    out = tmp_path / "out"
    argv = ["batch", "run-model", str(small_cohort), str(out), "--model", "cond-test", "--params", str(table),
            "--param", "diagnosis=MCI"]
    assert main(argv + ["--workers", "2"]) == 1  # the third case has no age
    printed = capsys.readouterr().out
    assert "2 done, 0 skipped, 1 failed" in printed and f"failed: {ids[2]}: Case {ids[2]} has no row" in printed
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["status"] for row in rows] == ["done", "done", "failed"]
    assert all(row["worker"] for row in rows[:2])

    table.write_text(table.read_text() + f"{ids[2]},80\n")
    before = (out / "results.csv").read_bytes()
    assert main(argv + ["--dry-run"]) == 0
    assert "3 cases: 1 to run, 2 already done (skipped), 0 with unusable parameters" in capsys.readouterr().out
    assert (out / "results.csv").read_bytes() == before  # a dry run writes nothing
    assert main(argv) == 0
    assert "1 done, 2 skipped, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--param", "diagnosis"], "--param takes NAME=VALUE"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    (["--model", "no-such-model"], "No model 'no-such-model'"),
])
def test_cli_batch_usage_errors_exit_2_with_a_message(small_cohort, tmp_path, capsys, extra, message):
    argv = ["batch", "run-model", str(small_cohort), str(tmp_path / "out")]
    if "--model" not in extra:
        argv += ["--model", "demo-edges"]
    assert main(argv + extra) == 2
    assert message in capsys.readouterr().err


def test_cli_batch_help_lists_every_task_and_its_parameters(capsys):
    from medsynth.batch import BATCH_TASKS

    with pytest.raises(SystemExit) as exited:
        main(["batch", "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    for task in BATCH_TASKS.values():
        assert f"  {task.name}: " in text
        assert all(f"{parameter.name} (" in text for parameter in task.parameters(None))
