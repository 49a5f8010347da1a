"""Evaluation metrics: SynthRAD image metrics and structure geometry for synthetic CT, anomaly-map metrics.

Definitions: ``/work/shared/METRICS.md``. numpy + scipy only.
"""

from medsynth.metrics.anomaly import (
    DiceAtThreshold,
    VoxelAnomalyMetrics,
    dice_at_threshold,
    dice_upper_bound,
    evaluate_anomaly_maps,
    scan_average_precision,
    validation_threshold,
    voxel_auprc,
    voxel_auroc,
)
from medsynth.metrics.dose import DoseComparison, compare_doses, dose_mae_percent, gamma_index, gamma_pass_rate
from medsynth.metrics.geometry import StructureAgreement, dice, evaluate_geometry, hd95
from medsynth.metrics.synthrad import (
    SCTMetrics,
    evaluate_sct,
    mae_2023,
    mae_2025,
    ms_ssim_2025,
    psnr_2023,
    psnr_2025,
    ssim_2023,
    ssim_map,
)

__all__ = [
    "DiceAtThreshold",
    "DoseComparison",
    "SCTMetrics",
    "StructureAgreement",
    "VoxelAnomalyMetrics",
    "compare_doses",
    "dice",
    "dice_at_threshold",
    "dice_upper_bound",
    "dose_mae_percent",
    "evaluate_anomaly_maps",
    "evaluate_geometry",
    "evaluate_sct",
    "gamma_index",
    "gamma_pass_rate",
    "hd95",
    "mae_2023",
    "mae_2025",
    "ms_ssim_2025",
    "psnr_2023",
    "psnr_2025",
    "scan_average_precision",
    "ssim_2023",
    "ssim_map",
    "validation_threshold",
    "voxel_auprc",
    "voxel_auroc",
]
