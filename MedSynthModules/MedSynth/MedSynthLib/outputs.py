"""Synthetic outputs in the scene: named, stamped with provenance, filed under the input's study.

Every node made here carries ``MedSynth.*`` attributes (model, version, sha256, parameters,
time, input node, ``MedSynth.Synthetic = YES``) and a name that says it is synthetic, and sits
beside its input in the Subject Hierarchy. The input node is never modified, and an existing
node is only reused when the caller passes it explicitly.
"""

from __future__ import annotations

import SimpleITK as sitk

import slicer
from MedSynthLib.volume_bridge import image_to_node
from medsynth.provenance import ATTRIBUTE_PREFIX, Provenance

SYNTHETIC_NAME_SUFFIX = "(synthetic)"


def synthetic_name(input_name: str, what: str) -> str:
    """``"<input> <what> (synthetic)"`` — the name alone tells a reader the image is generated."""
    return f"{input_name} {what} {SYNTHETIC_NAME_SUFFIX}"


def add_output_volume(image: sitk.Image, input_node, what: str, provenance: Provenance, output_node=None,
                      class_name: str = "vtkMRMLScalarVolumeNode"):
    """A volume node holding ``image``, named and stamped as synthetic, next to ``input_node``.

    ``output_node`` (optional) is overwritten in place — only pass one the user chose to replace.
    """
    scene = input_node.GetScene()
    if output_node is not None and output_node.GetID() == input_node.GetID():
        raise ValueError("The output must not overwrite the input volume; choose another output node.")
    node = image_to_node(image, scene, synthetic_name(input_node.GetName(), what), node=output_node,
                         class_name=class_name)
    stamp_provenance(node, provenance, input_node)
    place_beside(node, input_node)
    return node


def stamp_provenance(node, provenance: Provenance, input_node=None) -> None:
    """Write the provenance record as ``MedSynth.*`` node attributes."""
    for key, value in provenance.as_attributes().items():
        node.SetAttribute(key, value)
    if input_node is not None:
        node.SetAttribute(ATTRIBUTE_PREFIX + "InputNodeID", input_node.GetID())
        node.SetAttribute(ATTRIBUTE_PREFIX + "InputNodeName", input_node.GetName())


def provenance_attributes(node) -> dict[str, str]:
    """The ``MedSynth.*`` attributes of a node (e.g. to show or audit a result)."""
    return {name: node.GetAttribute(name) for name in node.GetAttributeNames() or ()
            if name.startswith(ATTRIBUTE_PREFIX)}


def place_beside(node, input_node) -> int:
    """Put ``node`` under the same Subject Hierarchy parent (study) as ``input_node``; return its item."""
    hierarchy = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(input_node.GetScene())
    parent = hierarchy.GetItemParent(_item_of(hierarchy, input_node))
    item = _item_of(hierarchy, node)
    hierarchy.SetItemParent(item, parent)
    return item


def _item_of(hierarchy, node) -> int:
    """The node's Subject Hierarchy item; created under the scene when Slicer's plugins (absent
    without the application) have not made one yet."""
    return hierarchy.GetItemByDataNode(node) or hierarchy.CreateItem(hierarchy.GetSceneItemID(), node)
