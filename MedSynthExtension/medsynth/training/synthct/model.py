"""Network factory for synthetic CT: a 2.5D slab UNet (default) or a 3D UNet (MONAI).

Every network takes the runtime's patch ``(N, 1, *patch_size)`` and returns ``(N, 1,
*patch_size)`` in HU / :data:`HU_SCALE`, the I/O contract of :class:`medsynth.runtime.OnnxGenerator`.

* ``unet2.5d``: a 2D UNet whose input channels are the ``patch_size[0]`` adjacent axial slices of
  the patch and whose output channels are the CT of the same slices. With the card's overlap the
  runtime slides the slab one slice at a time and Gaussian-blends, so every slice is predicted
  with its neighbours as context, at the cost of a 2D network (cheap on a CPU).
* ``unet3d``: a 3D UNet on 3D patches (needs every patch side divisible by 2^levels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

ARCHITECTURES = ("unet2.5d", "unet3d")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture options (saved in checkpoints and quoted in the model card)."""

    architecture: str = "unet2.5d"
    patch_size: tuple[int, int, int] = (15, 128, 128)
    channels: tuple[int, ...] = (16, 32, 64, 128)
    residual_units: int = 1
    norm: str = "batch"

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["patch_size"] = list(self.patch_size)
        values["channels"] = list(self.channels)
        return values

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        values = dict(values)
        values["patch_size"] = tuple(values["patch_size"])
        values["channels"] = tuple(values["channels"])
        return cls(**values)

    def check(self) -> None:
        """Raise ``ValueError`` for combinations the network cannot run."""
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; choose one of {ARCHITECTURES}")
        factor = 2 ** (len(self.channels) - 1)
        sides = self.patch_size[1:] if self.architecture == "unet2.5d" else self.patch_size
        if any(side % factor for side in sides):
            raise ValueError(f"patch sides {list(sides)} must be multiples of {factor} for {len(self.channels)} UNet levels")


def build_model(config: ModelConfig):
    """A fresh ``torch.nn.Module`` for ``config`` (imports torch and MONAI here, not at import time)."""
    import torch
    from monai.networks.nets import UNet

    config.check()
    strides = (2,) * (len(config.channels) - 1)
    common = dict(channels=config.channels, strides=strides, num_res_units=config.residual_units, norm=config.norm)

    class SlabUNet(torch.nn.Module):
        """(N, 1, k, H, W) → 2D UNet over the k slices as channels → (N, 1, k, H, W)."""

        def __init__(self, slices: int):
            super().__init__()
            self.net = UNet(spatial_dims=2, in_channels=slices, out_channels=slices, **common)

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.net(image[:, 0]).unsqueeze(1)

    if config.architecture == "unet2.5d":
        return SlabUNet(config.patch_size[0])
    return UNet(spatial_dims=3, in_channels=1, out_channels=1, **common)


def parameter_count(model) -> int:
    """Trainable parameters of a torch module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def channels_from_text(text: str) -> Sequence[int]:
    """``"16,32,64,128"`` → (16, 32, 64, 128), for command-line options."""
    return tuple(int(part) for part in text.split(",") if part.strip())
