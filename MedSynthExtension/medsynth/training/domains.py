"""The ``domain`` block each trainer writes on its cards: what its training data were like.

One place, so a retrained built-in keeps the domain its card was validated on; see
:mod:`medsynth.domain` for how the runtime enforces it.
"""

from __future__ import annotations

#: Card ``domain`` blocks by task.
TRAINED_DOMAINS: dict[str, dict] = {
    "synth-ct": {"modality": "MR", "contrasts": ["T1"], "skull": "required", "body_part": "head", "spacing_mm": [0.3, 3.0], "min_field_of_view_mm": 64.0, "measured_on": "T1-weighted MR of whole heads, skull and scalp included: IXI 1.5 T heads and the SPM templates (2 mm), one clinical head MR (head_mr_skull)"},
    "future-mri": {"modality": "MR", "contrasts": ["T1"], "skull": "required", "body_part": "head", "spacing_mm": [0.3, 3.0], "min_field_of_view_mm": 64.0, "measured_on": "native T1-weighted whole-head MR of healthy adults (IXI, 1.5 T, Hammersmith; 2 mm), skull included; never brain-extracted images"},
    "anomaly": {"modality": "MR", "contrasts": ["T1"], "skull": "any", "body_part": "head", "spacing_mm": [0.3, 3.0], "min_field_of_view_mm": 64.0, "measured_on": "native T1-weighted brain MR (IXI 1.5 T heads and SPM templates at 2 mm, trained with and without the skull removed)"},
    "demo": {"modality": "any", "contrasts": ["any"], "skull": "any", "body_part": "any", "measured_on": "any image: fixed edge kernels, nothing learned"},
}
