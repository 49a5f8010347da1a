"""An ONNX generator loaded for inference: integrity check, session options, I/O contract.

Loading a model verifies its weights against the card's sha256 and checks that the network's
declared inputs and outputs agree with the card (channels, patch size, conditioning width,
number of outputs) before the first patch runs, so a mismatched card fails with a message
instead of a shape error deep inside onnxruntime.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from medsynth.errors import InputError, ModelError
from medsynth.models.card import ModelCard
from medsynth.models.registry import ModelEntry, ModelRegistry

#: Input channels every MedSynth image input has (one scalar volume).
IMAGE_CHANNELS = 1


def default_thread_count() -> int:
    """Intra-op threads: the cores this process may use (onnxruntime's best on conv3d)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:
        return max(os.cpu_count() or 1, 1)


def import_onnxruntime():
    """onnxruntime, imported only when a model is loaded: a Slicer without it still loads every module
    and installs it on the user's first Apply (MedSynthLib.dependencies)."""
    try:
        import onnxruntime
    except ImportError:
        raise ModelError("onnxruntime is not installed; run models after `pip install onnxruntime`.") from None
    return onnxruntime


class OnnxGenerator:
    """A verified model ready to run batches of patches: ``predict(batch, condition=None)``."""

    def __init__(self, entry: ModelEntry, threads: int | None = None, providers: Sequence[str] | None = None):
        entry.verify()
        self.entry = entry
        self.card: ModelCard = entry.card
        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or default_thread_count()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        try:
            self.session = ort.InferenceSession(str(entry.weights_path), options,
                                                providers=list(providers or ["CPUExecutionProvider"]))
        except Exception as exc:  # onnxruntime raises its own, unexported exception types
            raise ModelError(f"onnxruntime cannot load {entry.weights_path}: {exc}") from None
        self._check_contract()

    def predict(self, batch: np.ndarray, condition: np.ndarray | None = None) -> np.ndarray:
        """Run one batch (n, 1, *patch) → (n, outputs, *patch), with the condition vector repeated."""
        feeds = {self.card.inference.image_input: batch}
        if self.card.condition_width:
            if condition is None:
                raise ModelError(f"Model {self.card.id} needs a conditioning vector of length {self.card.condition_width}.")
            feeds[self.card.inference.condition_input] = np.repeat(condition[None, :], len(batch), axis=0)
        return self.session.run(None, feeds)[0]

    def _check_contract(self) -> None:
        card = self.card
        inputs = {node.name: node for node in self.session.get_inputs()}
        where = f"{self.entry.weights_path} (model {card.id})"
        image = inputs.get(card.inference.image_input)
        if image is None:
            raise ModelError(f"{where} has no input named '{card.inference.image_input}' "
                             f"(it has {sorted(inputs)}); the card and the network do not match.")
        self._check_shape(image.shape, [None, IMAGE_CHANNELS, *card.inference.patch_size], f"{where} input '{image.name}'")
        expected_inputs = {card.inference.image_input}
        if card.condition_width:
            expected_inputs.add(card.inference.condition_input)
            condition = inputs.get(card.inference.condition_input)
            if condition is None:
                raise ModelError(f"{where}: the card declares conditioning but the network has no input "
                                 f"'{card.inference.condition_input}'.")
            self._check_shape(condition.shape, [None, card.condition_width], f"{where} input '{condition.name}'")
        if set(inputs) != expected_inputs:
            raise ModelError(f"{where} takes inputs {sorted(inputs)} but its card describes {sorted(expected_inputs)}.")
        output = self.session.get_outputs()[0]
        self._check_shape(output.shape, [None, len(card.outputs), *card.inference.patch_size], f"{where} output '{output.name}'")

    @staticmethod
    def _check_shape(actual: Sequence, expected: Sequence, what: str) -> None:
        """Static dimensions must equal the card's; symbolic (named or unknown) ones are accepted."""
        if len(actual) != len(expected):
            raise ModelError(f"{what} has rank {len(actual)}, but its card implies shape {list(expected)}.")
        for have, want in zip(actual, expected):
            if want is not None and isinstance(have, int) and have != want:
                raise ModelError(f"{what} has shape {list(actual)}, which contradicts its card (expected {list(expected)}).")


def generator_for(model: ModelEntry | OnnxGenerator | str | None, task: str, what: str,
                  registry: ModelRegistry | None = None) -> OnnxGenerator:
    """An :class:`OnnxGenerator` for a ``task`` model given as generator, entry, id or None (the
    registry's default for the task); ``what`` names the task for the error message
    (e.g. "synthetic-CT"). Raises :class:`InputError` for a model of another task."""
    if isinstance(model, OnnxGenerator):
        generator = model
    else:
        entry = model if isinstance(model, ModelEntry) else (registry or ModelRegistry.default()).find(model, task=task)
        generator = OnnxGenerator(entry)
    if generator.card.task != task:
        raise InputError(f"Model {generator.card.id} is a '{generator.card.task}' model, not a {what} model.")
    return generator
