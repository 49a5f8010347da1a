"""Tasks: what a clinician asks for (synthetic CT, future MRI, anomaly maps), built on the runtime.

A task wraps :func:`medsynth.runtime.run_generator` with the pre- and post-processing only that
task needs (for synthetic CT: the head mask, air outside the body, test-time-augmentation
uncertainty) and returns a result dataclass. Tasks never import torch.
"""
