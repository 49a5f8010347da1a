"""Heat-map overlays on the slice views: colour table, threshold, opacity, colour legend.

Sub-threshold voxels are made transparent with the display node's threshold (not by editing
the map), so the threshold slider is instant and the saved map keeps every value.
"""

from __future__ import annotations

import numpy as np

import slicer
from medsynth.render import heat_colors

HEAT_TABLE_NAME = "MedSynthHeat"
#: Slicer's own perceptual heat table, present in the full application.
SLICER_INFERNO_ID = "vtkMRMLColorTableNodeFileInferno.txt"


def heat_color_node(scene):
    """Slicer's Inferno table when the application has it, else a 256-entry MedSynth heat table."""
    inferno = scene.GetNodeByID(SLICER_INFERNO_ID)
    if inferno is not None:
        return inferno
    existing = scene.GetFirstNodeByName(HEAT_TABLE_NAME)
    if existing is not None:
        return existing
    table = scene.AddNewNodeByClass("vtkMRMLColorTableNode", HEAT_TABLE_NAME)
    table.SetTypeToUser()
    table.SetNumberOfColors(256)
    rgb = heat_colors(np.linspace(0.0, 1.0, 256)) / 255.0
    for index, (red, green, blue) in enumerate(rgb):
        table.SetColor(index, f"heat{index}", float(red), float(green), float(blue), 1.0)
    table.SetAttribute("Category", "MedSynth")
    return table


def style_heat_map(map_node, value_range: tuple[float, float], threshold: float | None = None):
    """Colour ``map_node`` with the heat table over ``value_range``; hide values below ``threshold``."""
    display = map_node.GetDisplayNode()
    if display is None:
        map_node.CreateDefaultDisplayNodes()
        display = map_node.GetDisplayNode()
    display.SetAndObserveColorNodeID(heat_color_node(map_node.GetScene()).GetID())
    display.AutoWindowLevelOff()
    display.SetWindowLevelMinMax(*value_range)
    set_threshold(map_node, threshold)
    return display


def set_threshold(map_node, threshold: float | None) -> None:
    """Make voxels below ``threshold`` transparent (None shows every voxel)."""
    display = map_node.GetDisplayNode()
    display.SetApplyThreshold(threshold is not None)
    if threshold is not None:
        display.SetLowerThreshold(threshold)
        display.SetUpperThreshold(float(np.finfo(np.float32).max))


def show_overlay(background_node, map_node, opacity: float = 0.5, scene=None) -> None:
    """Show ``map_node`` over ``background_node`` in every slice view at ``opacity``."""
    scene = scene or background_node.GetScene()
    for composite in scene.GetNodesByClass("vtkMRMLSliceCompositeNode"):
        composite.SetBackgroundVolumeID(background_node.GetID())
        composite.SetForegroundVolumeID(map_node.GetID())
        composite.SetForegroundOpacity(opacity)


def add_color_legend(map_node, title: str):
    """A colour legend for the map in the views (Slicer ≥ 5.0 colors logic); None where unavailable."""
    colors = getattr(getattr(slicer, "modules", None), "colors", None)
    if colors is None:
        return None
    legend = colors.logic().AddDefaultColorLegendDisplayNode(map_node)
    if legend is not None:
        legend.SetTitleText(title)
        legend.SetVisibility(True)
    return legend
