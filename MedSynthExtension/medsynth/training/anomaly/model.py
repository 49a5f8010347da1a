"""The reconstruction network and the exported module that carries the population maps.

* :func:`build_network` — an atlas-conditioned denoising autoencoder: a MONAI 3D UNet (instance
  norm, one residual unit per level) that sees the scan *and* the healthy mean intensity at the
  same place (the aligned population template, a second input channel) and predicts what to
  subtract from the scan to make it healthy (residual learning, as DnCNN: the network starts from
  the identity, so the individual's fine anatomy is kept from the first iteration and the few
  minutes of CPU training go into learning the corrections). Knowing what tissue is expected where
  lets it tell a dark lesion from a sulcus or a ventricle with a handful of training brains. Trained on random patches (the template
  patch is taken at the unaugmented position, so augmentation also teaches it to tolerate
  misregistration); fully convolutional, so it runs on the whole MNI volume afterwards.
* :func:`make_anomaly_network` — what is exported: the whole 91×109×91 MNI volume in, zero-padded
  to 96×112×96 (divisible by 8) and cropped back, the template fed as the second channel from
  inside the graph, and the reconstruction returned together with the population maps as
  constant channels (:data:`medsynth.tasks.anomaly.space.OUTPUT_NAMES`). The template is stored
  at 2 mm, the smooth maps (brain prior, residual and intensity spread) at 4 mm and upsampled
  trilinearly inside the graph, all in float16, which keeps the file at a few MB. The maps are
  tied to a term computed from the input (times zero), so the exporter's constant folding cannot
  expand them to full-size float32 tensors in the file.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from medsynth.tasks.anomaly.space import MAP_CHANNELS, MNI_SIZE_XYZ

#: Maps stored at 4 mm (every other voxel of the 2 mm grid, upsampled with align_corners=True).
LOW_RESOLUTION_MAPS = ("brain_prior", "residual_mean", "residual_sd", "intensity_sd")
MNI_SHAPE = MNI_SIZE_XYZ[::-1]
PADDED_SHAPE = (96, 112, 96)


def build_network(channels: Sequence[int]):
    """A fresh ``(image, atlas) → healthy image`` network (imports torch and MONAI here, not at import time)."""
    import torch
    from monai.networks.nets import UNet

    class AtlasDenoiser(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unet = UNet(spatial_dims=3, in_channels=2, out_channels=1, channels=tuple(channels),
                             strides=(2,) * (len(channels) - 1), num_res_units=1, norm="INSTANCE")

        def forward(self, image, atlas):
            return image - self.unet(torch.cat([image, atlas], dim=1))

    return AtlasDenoiser()


def parameter_count(module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def downsampled(values: np.ndarray) -> np.ndarray:
    """Every other voxel (the 4 mm lattice the graph upsamples from); smooth maps only."""
    return np.ascontiguousarray(values[::2, ::2, ::2])


#: F.pad amounts (last axis first) and the crop that undoes them.
PADS = [v for size, target in zip(MNI_SHAPE[::-1], PADDED_SHAPE[::-1])
        for v in ((target - size) // 2, target - size - (target - size) // 2)]
CROP = tuple(slice((t - s) // 2, (t - s) // 2 + s) for s, t in zip(MNI_SHAPE, PADDED_SHAPE))


def padded_reconstruction(network, image, atlas):
    """``network`` on (N, 1, 91, 109, 91) tensors, zero-padded to :data:`PADDED_SHAPE` and cropped back."""
    import torch.nn.functional as F

    return network(F.pad(image, PADS), F.pad(atlas, PADS))[(slice(None), slice(None), *CROP)]


def reconstruct_volume(network, volume: np.ndarray, atlas: np.ndarray) -> np.ndarray:
    """The reconstruction of one normalised MNI volume (z, y, x) with the torch network."""
    import torch

    with torch.no_grad():
        tensors = [torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32))[None, None] for v in (volume, atlas)]
        return padded_reconstruction(network, *tensors)[0, 0].numpy()


def make_anomaly_network(network, maps: Mapping[str, np.ndarray]):
    """The export module: ``(N, 1, 91, 109, 91) → (N, 7, 91, 109, 91)``; the atlas channel is
    ``maps["intensity_mean"]``, which must be the template the network was trained with."""
    import torch
    import torch.nn.functional as F

    missing = set(MAP_CHANNELS) - set(maps)
    if missing:
        raise ValueError(f"population maps missing: {sorted(missing)}")
    if not np.array_equal(maps["template"], maps["intensity_mean"]):
        raise ValueError("the template and the intensity mean must be one map (the network's atlas channel)")

    class AnomalyNetwork(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = network
            self.register_buffer("template", torch.from_numpy(np.asarray(maps["template"], np.float16))[None, None])
            low = np.stack([downsampled(np.asarray(maps[name], np.float32)) for name in LOW_RESOLUTION_MAPS])
            self.register_buffer("low", torch.from_numpy(low.astype(np.float16))[None])

        def forward(self, image):
            zero = (image[:1, :1, :1, :1, :1] * 0.0).to(self.template.dtype)
            template = (self.template + zero).float()
            reconstruction = padded_reconstruction(self.network, image, template.expand(image.shape[0], -1, -1, -1, -1))
            low = F.interpolate((self.low + zero).float(), size=MNI_SHAPE, mode="trilinear", align_corners=True)
            constant = torch.cat([template, low[:, 0:1], low[:, 1:2], low[:, 2:3], template, low[:, 3:4]], dim=1)
            return torch.cat([reconstruction, constant.expand(image.shape[0], -1, -1, -1, -1)], dim=1)

    return AnomalyNetwork()
