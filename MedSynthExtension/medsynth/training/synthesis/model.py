"""A small conditional VAE that paints a lesion's T1 intensities inside a given lesion mask.

The decoder is the exported generator: input the mask patch (N, 1, 1, 48, 48), condition
``[one-hot lesion type (2), lesion_contrast, z1..z4]``; output two maps: the mean of the lesion's
intensity (× brain median) and the log standard deviation of its voxel texture (a Gaussian
likelihood: a mean-only decoder paints lesions far smoother than real ones). The mean is shifted
so that its average inside the mask *is* ``lesion_contrast``: the contrast factor is exact by
construction, and the network only learns the spatial pattern (rim, core, texture strength) from
the type and the latent code. The encoder (training only) maps a real patch to the latent code's
posterior.
"""

from __future__ import annotations

import torch
from torch import nn

from medsynth.tasks.synthesis.appearance import LATENT_SIZE
from medsynth.tasks.synthesis.factors import LESION_TYPES

CONDITION_WIDTH = len(LESION_TYPES) + 1 + LATENT_SIZE
LOG_SD_MIN, LOG_SD_MAX = -5.0, 0.0


def _block(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation),
                         nn.GroupNorm(4, c_out), nn.SiLU())


class Encoder(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(_block(2, width, 2), _block(width, 2 * width, 2), _block(2 * width, 4 * width, 2),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * width + len(LESION_TYPES), 2 * LATENT_SIZE)

    def forward(self, intensity: torch.Tensor, mask: torch.Tensor, lesion_type: torch.Tensor):
        mean, log_var = self.head(torch.cat([self.features(torch.cat([intensity * mask, mask], 1)), lesion_type], 1)).chunk(2, 1)
        return mean, log_var.clamp(-8, 4)


class Decoder(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.body = nn.Sequential(_block(1 + CONDITION_WIDTH, width), _block(width, width, dilation=2),
                                  _block(width, width, dilation=4), _block(width, width, dilation=2),
                                  _block(width, width), nn.Conv2d(width, 2, 1))

    def forward(self, mask: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """mask (N, 1, H, W), condition (N, CONDITION_WIDTH) → (N, 2, H, W): mean, log sd."""
        n, _, h, w = mask.shape
        planes = condition[:, :, None, None].expand(n, condition.shape[1], h, w)
        raw, log_sd = self.body(torch.cat([mask, planes], 1)).chunk(2, 1)
        inside = (raw * mask).sum((2, 3), keepdim=True) / mask.sum((2, 3), keepdim=True).clamp(min=1.0)
        contrast = condition[:, len(LESION_TYPES), None, None, None]
        return torch.cat([raw - inside + contrast, log_sd.clamp(LOG_SD_MIN, LOG_SD_MAX)], 1)


class ExportedDecoder(nn.Module):
    """The runtime contract: image (N, 1, 1, H, W) = mask, condition (N, width) → (N, 2, 1, H, W)."""

    def __init__(self, decoder: Decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, image: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        return self.decoder(image[:, :, 0], condition)[:, :, None]
