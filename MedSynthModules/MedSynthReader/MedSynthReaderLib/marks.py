"""Point marks: a markups fiducial node in the scene (RAS) <-> a point-marks answer (LPS, mm).

Slicer places control points in RAS world coordinates; the reading engine stores answers in LPS,
the frame of the images and of every other MedSynth tool, so exported marks can be compared with
SimpleITK-side results directly. RAS -> LPS negates the first two axes (and back again).
World positions are used, so a mark placed while a transform is applied lands where the
reader saw it.
"""

from __future__ import annotations

from typing import Any, Sequence

#: Attributes tying a marks node to its case and question (opaque id only).
CASE_ATTRIBUTE = "MedSynth.Reading.CaseId"
QUESTION_ATTRIBUTE = "MedSynth.Reading.QuestionId"


def ras_to_lps(point: Sequence[float]) -> list[float]:
    """A position in RAS millimetres as LPS millimetres (the map is its own inverse)."""
    x, y, z = (float(v) for v in point)
    return [-x, -y, z]


def pointMarksFromNode(markupsNode) -> list[dict[str, Any]]:
    """The node's placed control points as answer points ``{"lps_mm": [x, y, z], "note": ...}``.

    The note is the control point's description (editable in the Markups module); points still
    being placed (position undefined) are left out.
    """
    if markupsNode is None:
        return []
    points = []
    for index in range(markupsNode.GetNumberOfControlPoints()):
        if markupsNode.GetNthControlPointPositionStatus(index) != markupsNode.PositionDefined:
            continue
        ras = [0.0, 0.0, 0.0]
        markupsNode.GetNthControlPointPositionWorld(index, ras)
        points.append({"lps_mm": ras_to_lps(ras), "note": markupsNode.GetNthControlPointDescription(index) or ""})
    return points


def addMarksNode(scene, caseId: str, questionId: str, maxPoints: int | None = None,
                 previous: Sequence[dict[str, Any]] | None = None):
    """A new fiducial node for one point-marks question of one case, pre-filled with ``previous``
    (stored LPS points, when a case is revisited). Named and labelled by the opaque id only."""
    node = scene.AddNewNodeByClass("vtkMRMLMarkupsFiducialNode", f"{caseId} {questionId}")
    node.SetControlPointLabelFormat("%d")  # "1", "2"... on screen, nothing more
    node.SetAttribute(CASE_ATTRIBUTE, caseId)
    node.SetAttribute(QUESTION_ATTRIBUTE, questionId)
    if maxPoints is not None:
        node.SetMaximumNumberOfControlPoints(maxPoints)
    node.CreateDefaultDisplayNodes()
    for point in previous or ():
        index = node.AddControlPoint(ras_to_lps(point["lps_mm"]))
        node.SetNthControlPointDescription(index, point.get("note", ""))
    return node
