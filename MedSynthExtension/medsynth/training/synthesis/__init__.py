"""Training the synthesis model's appearance generator (torch; see :mod:`medsynth.tasks.synthesis`)."""
