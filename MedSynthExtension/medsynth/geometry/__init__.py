"""Putting images on a model's grid and results back onto the input's grid."""

from medsynth.geometry.grid import GridPlan, orientation_code, plan_model_grid, to_input_grid, to_model_grid

__all__ = ["GridPlan", "orientation_code", "plan_model_grid", "to_input_grid", "to_model_grid"]
