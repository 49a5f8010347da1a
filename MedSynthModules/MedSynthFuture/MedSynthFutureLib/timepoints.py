"""The predicted timepoints as a Sequence indexed by "years", with a browser to scrub through them.

Index 0 holds the input (baseline, real); each later index a predicted volume, named and stamped
as synthetic. The browser overwrites the proxy's name with the current timepoint's, so the name
in the views always says whether the shown image is real or synthetic. Works headless through
``slicer.modules.sequences.logic()`` (real in Slicer, the stand-in under test).
"""

from __future__ import annotations

from typing import Mapping

import SimpleITK as sitk

import slicer
from MedSynthLib.outputs import place_beside, stamp_provenance, synthetic_name
from MedSynthLib.volume_bridge import image_to_node
from medsynth.provenance import ATTRIBUTE_PREFIX, Provenance

INDEX_NAME, INDEX_UNIT = "years", "year"


def index_value(years: float) -> str:
    """The sequence index string of an interval (``"0"``, ``"2.5"``)."""
    return f"{years:g}"


def add_timepoint_sequence(input_node, baseline: sitk.Image, predictions: Mapping[float, sitk.Image],
                           provenance: Provenance):
    """A sequence node (index "years") holding the baseline and every prediction, and its browser
    node with proxies updated; returns ``(sequence, browser, proxy)``."""
    scene = input_node.GetScene()
    name = f"{input_node.GetName()} future"
    sequence = scene.AddNewNodeByClass("vtkMRMLSequenceNode", scene.GenerateUniqueName(synthetic_name(input_node.GetName(), "future")))
    sequence.SetIndexName(INDEX_NAME)
    sequence.SetIndexUnit(INDEX_UNIT)
    sequence.SetIndexType(slicer.vtkMRMLSequenceNode.NumericIndex)
    _add_data(sequence, baseline, f"{input_node.GetName()} baseline (input)", 0.0, None, input_node)
    for years in sorted(predictions):
        _add_data(sequence, predictions[years], synthetic_name(input_node.GetName(), f"+{index_value(years)} y"), years,
                  provenance, input_node)
    stamp_provenance(sequence, provenance, input_node)
    browser = scene.AddNewNodeByClass("vtkMRMLSequenceBrowserNode", scene.GenerateUniqueName(f"{name} browser"))
    browser.SetAndObserveMasterSequenceNodeID(sequence.GetID())
    browser.SetOverwriteProxyName(None, True)
    slicer.modules.sequences.logic().UpdateProxyNodesFromSequences(browser)
    browser.SetSelectedItemNumber(sequence.GetNumberOfDataNodes() - 1)
    slicer.modules.sequences.logic().UpdateProxyNodesFromSequences(browser)
    proxy = browser.GetProxyNode(sequence)
    for node in (sequence, proxy):
        place_beside(node, input_node)
    return sequence, browser, proxy


def _add_data(sequence, image: sitk.Image, name: str, years: float, provenance: Provenance | None, input_node) -> None:
    """Copy ``image`` into the sequence at ``years`` through a temporary scene node."""
    scene = sequence.GetScene()
    node = image_to_node(image, scene, name)
    if provenance is not None:
        stamp_provenance(node, provenance, input_node)
        node.SetAttribute(ATTRIBUTE_PREFIX + "Years", index_value(years))
    else:
        node.SetAttribute(ATTRIBUTE_PREFIX + "Synthetic", "NO")
    sequence.SetDataNodeAtValue(node, index_value(years))
    for display in [node.GetNthDisplayNode(i) for i in range(node.GetNumberOfDisplayNodes())]:
        scene.RemoveNode(display)
    scene.RemoveNode(node)
