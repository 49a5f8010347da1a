"""Module logic helpers: turn "run this engine function on that node" into a :class:`BackgroundJob`.

The input node is read into a SimpleITK image on the calling (main) thread; the engine work runs
on the worker thread without touching MRML; the output nodes are created by ``make_nodes`` back
on the main thread. Module logics build their ``run()`` (synchronous, for the Python console)
and ``start()`` (asynchronous, for the widget) from this one function.
"""

from __future__ import annotations

from typing import Any, Callable

import SimpleITK as sitk

from MedSynthLib.background import BackgroundJob
from MedSynthLib.volume_bridge import node_to_image

EngineWork = Callable[[sitk.Image, Callable[[float], None], Callable[[], bool]], Any]


def node_job(input_node, engine_work: EngineWork, make_nodes: Callable[[Any], Any]) -> BackgroundJob:
    """A job running ``engine_work(image, progress, cancelled)`` on a copy of ``input_node``'s volume."""
    if input_node is None or input_node.GetImageData() is None:
        raise ValueError("Select an input volume that holds image data.")
    image = node_to_image(input_node)
    return BackgroundJob(lambda progress, cancelled: engine_work(image, progress, cancelled), make_nodes)
