"""The one place where MRML volume nodes (RAS) and SimpleITK images (LPS) meet.

IJK→RAS = diag(−1, −1, 1) · Direction · diag(Spacing), origin_RAS = diag(−1, −1, 1) · origin_LPS.
Spacing, origin and directions are set as separate node fields (never re-derived from a 4×4
matrix), and voxel arrays are (k, j, i) on both sides, so a round trip is exact, oblique and
axis-permuted volumes included.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
import vtk
from vtk.util import numpy_support

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


def image_to_node(image: sitk.Image, scene, name: str, node=None, class_name: str = "vtkMRMLScalarVolumeNode"):
    """Put ``image`` into a volume node (a new one named ``name`` unless ``node`` is given)."""
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError("Only scalar 3D images can become volume nodes.")
    if node is None:
        node = scene.AddNewNodeByClass(class_name, scene.GenerateUniqueName(name))
    voxels = sitk.GetArrayFromImage(image)  # (k, j, i)
    image_data = vtk.vtkImageData()
    image_data.SetDimensions(image.GetSize())
    scalars = numpy_support.numpy_to_vtk(np.ascontiguousarray(voxels).ravel(), deep=True)
    image_data.GetPointData().SetScalars(scalars)
    node.SetAndObserveImageData(image_data)
    node.SetSpacing(image.GetSpacing())
    node.SetOrigin(tuple(_LPS_TO_RAS @ np.asarray(image.GetOrigin())))
    directions = _LPS_TO_RAS @ np.asarray(image.GetDirection()).reshape(3, 3)
    node.SetIJKToRASDirections(_matrix3(directions))
    if node.GetDisplayNode() is None:
        node.CreateDefaultDisplayNodes()
    return node


def node_to_image(node) -> sitk.Image:
    """A SimpleITK image (LPS) with the node's voxels and exact geometry; the node is not changed."""
    image_data = node.GetImageData()
    if image_data is None:
        raise ValueError(f"Volume '{node.GetName()}' has no image data.")
    if image_data.GetNumberOfScalarComponents() != 1:
        raise ValueError(f"Volume '{node.GetName()}' is not a scalar volume.")
    dims = image_data.GetDimensions()
    voxels = numpy_support.vtk_to_numpy(image_data.GetPointData().GetScalars()).reshape(dims[::-1]).copy()
    image = sitk.GetImageFromArray(voxels)
    image.SetSpacing(node.GetSpacing())
    image.SetOrigin(tuple(_LPS_TO_RAS @ np.asarray(node.GetOrigin())))
    directions = np.zeros((3, 3))
    node.GetIJKToRASDirections(directions)
    image.SetDirection(tuple((_LPS_TO_RAS @ directions).ravel()))
    return image


def _matrix3(values: np.ndarray):
    """A 3×3 nested list, the form ``SetIJKToRASDirections`` accepts from Python."""
    return [[float(v) for v in row] for row in values]

