"""The regional volume table of a prediction as a ``vtkMRMLTableNode`` (saved in the scene as TSV)."""

from __future__ import annotations

import vtk

from MedSynthLib.outputs import place_beside, stamp_provenance
from medsynth.provenance import Provenance
from medsynth.tasks.future_volumes import TABLE_COLUMNS, VolumeTable

_TEXT_COLUMNS = ("region", "title", "measured_on")


def add_volume_table(input_node, table: VolumeTable, provenance: Provenance):
    """A table node with one row per region and interval (columns as the CLI's CSV)."""
    scene = input_node.GetScene()
    node = scene.AddNewNodeByClass("vtkMRMLTableNode", scene.GenerateUniqueName(f"{input_node.GetName()} future volumes"))
    columns = []
    for name in TABLE_COLUMNS:
        column = vtk.vtkStringArray() if name in _TEXT_COLUMNS else vtk.vtkDoubleArray()
        column.SetName(name)
        columns.append(column)
    for row in table.rows:
        values = row.as_row()
        for name, column in zip(TABLE_COLUMNS, columns):
            if name in _TEXT_COLUMNS:
                column.InsertNextValue(str(values[name]))
            else:
                column.InsertNextValue(float(values[name]))
    for column in columns:
        node.AddColumn(column)
    node.SetUseColumnTitleAsColumnHeader(True)
    stamp_provenance(node, provenance, input_node)
    place_beside(node, input_node)
    return node


def table_rows(node) -> list[dict[str, str]]:
    """The table's rows as dictionaries of strings (column name → cell text), for checks and display."""
    table = node.GetTable()
    names = [table.GetColumn(c).GetName() for c in range(table.GetNumberOfColumns())]
    return [{name: node.GetCellText(r, c) for c, name in enumerate(names)} for r in range(node.GetNumberOfRows())]
