"""The anomaly-map task: a T1 brain scan in, a map of what the healthy population would not show out.

The entry is :func:`medsynth.tasks.anomaly.task.anomaly_map`. This package file imports nothing, so
every module here can be imported on its own and the modules form no import cycle.
"""
