"""Qt-free logic of the MedSynthReader module (blinded reader studies of real vs synthetic images).

One file per job: the reader's session in the scene (:mod:`logic`), the case's nodes
(:mod:`case_nodes`), point marks between markups (RAS) and answers (LPS) (:mod:`marks`), what the
question panel shows and whether an answer is complete (:mod:`presenter`), the keyboard table
(:mod:`shortcuts`) and the study lead's actions (:mod:`lead`). The engine
(``medsynth.reading``) does the blinding, ordering, saving and statistics.
"""

import MedSynthLib  # noqa: F401  (makes the ``medsynth`` engine importable)
