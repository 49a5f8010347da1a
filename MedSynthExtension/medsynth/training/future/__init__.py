"""Future-timepoint brain MRI: simulated progression, longitudinal BIDS data, the conditional
deformation model, its training, export and card.

Reproduce the built-in model ``future-t1-brain`` with::

    python -m medsynth.training.future.builtin --out MedSynthExtension/medsynth/models/builtin/future-t1-brain

Modules: :mod:`.literature` (atrophy rates with sources), :mod:`.simulate` (progression from a
real parcellation), :mod:`.bids` (longitudinal BIDS reader and writer), :mod:`.calibrate`
(source strengths that give a region its measured change), :mod:`.spec` (grid, normalisation,
condition vector, outputs), :mod:`.model` (the network), :mod:`.dataset` (pairs → training
targets), :mod:`.train` (stage one, and the rate-head fit), :mod:`.refit` (stage two),
:mod:`.export`, :mod:`.card`, :mod:`.evaluate` (held-out evaluation), :mod:`.builtin` (the whole
pipeline). Nothing here is imported at run time; torch is imported only inside the functions
that train or export.
"""
