"""The conditional deformation generator: where each region is × how fast it changes.

``FutureNet(image, condition)`` returns ``(N, 1 + regions, *patch)``:

* channels 1…: softmax region probabilities from a 3D UNet on the T1 (MONAI);
* channel 0: the change imposed over the interval, ``years × Σ_k p_k · s_k(age, sex, diagnosis)``
  over the active regions, where ``s`` (annual source strength, %/yr) comes from a small MLP of
  the condition vector without years.

Why this factorisation: the change depends on *where* (anatomy, from the image) and *how fast*
(from the conditions), and the product makes ``years = 0`` give exactly no change and the change
exactly proportional to the interval — properties a clinician can rely on and a test can check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from medsynth.tasks.future_regions import REGION_NAMES
from medsynth.training.future.spec import FutureSpec


@dataclass(frozen=True)
class NetConfig:
    """Architecture options (saved with checkpoints and quoted in the card)."""

    channels: tuple[int, ...] = (8, 16, 32, 64)
    residual_units: int = 0
    hidden: int = 32

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["channels"] = list(self.channels)
        return values


def build_model(spec: FutureSpec, config: NetConfig):
    """A fresh ``torch.nn.Module`` (torch and MONAI are imported here, not at import time)."""
    import torch
    from monai.networks.nets import UNet

    class FutureNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unet = UNet(spatial_dims=3, in_channels=1, out_channels=len(REGION_NAMES), channels=config.channels,
                             strides=(2,) * (len(config.channels) - 1), num_res_units=config.residual_units,
                             norm="instance")
            width = spec.years_index
            self.rates = torch.nn.Sequential(torch.nn.Linear(width, config.hidden), torch.nn.SiLU(),
                                             torch.nn.Linear(config.hidden, config.hidden), torch.nn.SiLU(),
                                             torch.nn.Linear(config.hidden, len(spec.active_indices)))
            self.register_buffer("active", torch.tensor(spec.active_indices, dtype=torch.long))

        def regions(self, image: torch.Tensor) -> torch.Tensor:
            """Region logits (N, regions, *patch)."""
            return self.unet(image)

        def sources(self, condition: torch.Tensor) -> torch.Tensor:
            """Annual source strength of each active region (N, active), %/yr."""
            return self.rates(condition[:, :spec.years_index])

        def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
            probabilities = torch.softmax(self.regions(image), dim=1)
            annual = (probabilities.index_select(1, self.active) * self.sources(condition)[:, :, None, None, None]
                      ).sum(dim=1, keepdim=True)
            years = condition[:, spec.years_index:] / spec.years_scale
            return torch.cat([annual * years[:, :, None, None, None], probabilities], dim=1)

    return FutureNet()


def parameter_count(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
