"""The batch tasks: one small adapter per task module, in the :data:`BATCH_TASKS` table.

Each adapter only translates between the batch engine (typed per-case parameters, a model
loaded once per process, named outputs) and the task's public function; the work itself is
done by :mod:`medsynth.runtime` and :mod:`medsynth.tasks`. To add a task, write its
``parameters`` and ``run`` functions here and add one :class:`BatchTask` row.
"""

from __future__ import annotations

from typing import Any, Mapping

import SimpleITK as sitk

from medsynth.batch.spec import BatchTask, CancelCheck, ProgressCallback, TaskOutput, TaskParameter
from medsynth.errors import InputError
from medsynth.io import read_image
from medsynth.models.card import ModelCard
from medsynth.models.registry import ModelEntry
from medsynth.runtime.onnx_model import OnnxGenerator


def load_generator(entry: ModelEntry, threads: int) -> OnnxGenerator:
    """The usual model handle: a verified onnxruntime session with ``threads`` intra-op threads."""
    return OnnxGenerator(entry, threads=threads)


# --- run-model: any installed model through run_generator -------------------------------------

_OVERLAP = TaskParameter("overlap", "number", "sliding-window overlap (default: the model card's)", range=(0.0, 0.95))


def _condition_parameters(card: ModelCard | None) -> tuple[TaskParameter, ...]:
    """The model's conditioning inputs as required parameters, with the card's ranges and
    categories (none without a card, e.g. for ``--help``)."""
    if card is None:
        return ()
    return tuple(
        TaskParameter(condition.name, "category" if condition.kind == "category" else "number",
                      condition.description or condition.units or condition.name, required=True,
                      choices=condition.categories, range=condition.range)
        for condition in card.conditions)


def _model_parameters(card: ModelCard | None) -> tuple[TaskParameter, ...]:
    return _condition_parameters(card) + (_OVERLAP,)


def _run_model(image: sitk.Image, params: Mapping[str, Any], model: OnnxGenerator,
               progress: ProgressCallback | None, cancelled: CancelCheck | None) -> TaskOutput:
    from medsynth.runtime.generate import run_generator

    conditions = {condition.name: params[condition.name] for condition in model.card.conditions}
    result = run_generator(model, image, conditions, progress, cancelled, overlap=params.get("overlap"))
    return TaskOutput(dict(result.images))


#: Shared by the tasks whose models have a validated domain (``medsynth batch ... --outside-domain``).
_OUTSIDE_DOMAIN = TaskParameter("outside_domain", "flag", "run even on inputs outside the model's validated domain "
                                "(contrast, skull, spacing); every output of such a case is stamped so", default=False)


# --- synth-ct: medsynth.tasks.synthct.synth_ct --------------------------------------------------

_SYNTH_CT_PARAMETERS = (
    TaskParameter("uncertainty", "flag", "also write the voxel-wise uncertainty map (HU)", default=False),
    TaskParameter("tta", "integer", "test-time augmentation passes, 1-4 (default 4 with uncertainty, else 1)",
                  range=(1, 4)),
    TaskParameter("mask", "path", "head/body mask to use instead of one computed from the MR"),
    _OUTSIDE_DOMAIN,
)


def _synth_ct_parameters(card: ModelCard | None) -> tuple[TaskParameter, ...]:
    return _SYNTH_CT_PARAMETERS


def _run_synth_ct(image: sitk.Image, params: Mapping[str, Any], model: OnnxGenerator,
                  progress: ProgressCallback | None, cancelled: CancelCheck | None) -> TaskOutput:
    from medsynth.tasks.synthct import synth_ct

    mask = read_image(params["mask"]) if "mask" in params else None
    result = synth_ct(image, model=model, mask=mask, uncertainty=bool(params.get("uncertainty")),
                      tta_passes=params.get("tta"), progress=progress, cancelled=cancelled,
                      allow_outside=bool(params.get("outside_domain")))
    images = {"sct": result.ct}
    if result.uncertainty is not None:
        images["uncertainty"] = result.uncertainty
    return TaskOutput(images, outside_domain=result.provenance.outside_domain)


# --- anomaly-map: medsynth.tasks.anomaly.task.anomaly_map ----------------------------------------

_ANOMALY_PARAMETERS = (
    TaskParameter("threshold", "number",
                  "finding threshold in the model's score units (default: the card's validated one)"),
    TaskParameter("method", "category", "model (the anomaly model) or baseline (z-score against the healthy mean)",
                  default="model", choices=("model", "baseline")),
    TaskParameter("mask", "path", "brain mask to score instead of the model's own (deepbet or brain prior)"),
    TaskParameter("brain_extracted", "flag", "whether the scan is skull-stripped (default: detected)"),
    TaskParameter("reconstruction", "flag", "also write the healthy reconstruction (reconstruction models)",
                  default=False),
    _OUTSIDE_DOMAIN,
)


def _anomaly_parameters(card: ModelCard | None) -> tuple[TaskParameter, ...]:
    return _ANOMALY_PARAMETERS


def _run_anomaly(image: sitk.Image, params: Mapping[str, Any], model: OnnxGenerator,
                 progress: ProgressCallback | None, cancelled: CancelCheck | None) -> TaskOutput:
    from medsynth.tasks.anomaly.task import anomaly_map
    from medsynth.tasks.anomaly.findings import findings_json

    options = {name: params[name] for name in ("threshold", "brain_extracted") if name in params}
    if "mask" in params:
        options["brain_mask"] = read_image(params["mask"])
    result = anomaly_map(image, model, method=params["method"], progress=progress, cancelled=cancelled,
                         allow_outside=bool(params.get("outside_domain")), **options)
    images = {"heatmap": result.score}
    if params.get("reconstruction") and result.reconstruction is not None:
        images["reconstruction"] = result.reconstruction
    findings = findings_json(result.findings, result.summary())  # the same file as 'medsynth anomaly-map --findings'
    return TaskOutput(images, {"findings.json": findings.encode("utf-8")}, result.provenance.outside_domain)


# --- predict-future: medsynth.tasks.future.predict_future ----------------------------------------

_LABELS = TaskParameter("labels", "path", "MUSE/DLMUSE parcellation of this T1 for the volume table "
                        "(default: the model's own region probabilities)")


def _future_parameters(card: ModelCard | None) -> tuple[TaskParameter, ...]:
    return _condition_parameters(card) + (_LABELS, _OUTSIDE_DOMAIN)


def _run_future(image: sitk.Image, params: Mapping[str, Any], model: OnnxGenerator,
                progress: ProgressCallback | None, cancelled: CancelCheck | None) -> TaskOutput:
    from medsynth.tasks.future import predict_future

    labels = read_image(params["labels"]) if "labels" in params else None
    result = predict_future(image, age=params["age"], sex=params["sex"], diagnosis=params["diagnosis"],
                            years=params["years"], labels=labels, model=model, progress=progress, cancelled=cancelled,
                            allow_outside=bool(params.get("outside_domain")))
    prediction = result.final
    return TaskOutput({"future": prediction.image, "change_map": prediction.tissue_loss},
                      {"volumes.csv": result.volumes.to_csv().encode("utf-8")}, result.provenance.outside_domain)


#: Every batch task by name, in the order ``medsynth batch --help`` lists them.
BATCH_TASKS: dict[str, BatchTask] = {
    task.name: task for task in (
        BatchTask("run-model", "any installed model (give --model); outputs named as in its card; parameters: "
                  "also the model's conditioning inputs (see 'medsynth models show ID')", None,
                  _model_parameters, _run_model, load_generator),
        BatchTask("synth-ct", "synthetic CT (HU) from head MRI: <case>_sct, <case>_uncertainty", "synth-ct",
                  _synth_ct_parameters, _run_synth_ct, load_generator),
        BatchTask("anomaly-map", "anomaly heat map of a brain T1: <case>_heatmap (the model's score), "
                  "<case>_findings.json (findings above the threshold, artefact verdict)", "anomaly",
                  _anomaly_parameters, _run_anomaly, load_generator),
        BatchTask("predict-future", "future T1 after 'years': <case>_future, <case>_change_map (tissue loss %), "
                  "<case>_volumes.csv; parameters: also age, sex, diagnosis, years (required; ranges and "
                  "categories from the model card)", "future-mri", _future_parameters, _run_future, load_generator),
    )
}


def get_task(name: str) -> BatchTask:
    """The batch task ``name`` (raises :class:`InputError` listing the known ones)."""
    try:
        return BATCH_TASKS[name]
    except KeyError:
        raise InputError(f"Unknown batch task '{name}'; choose one of {', '.join(BATCH_TASKS)}.") from None
