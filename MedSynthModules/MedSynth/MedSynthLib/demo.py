"""The MedSynth demo: every capability on real sample images, headless, with pictures and a scene.

    python -m MedSynthLib.demo OUT_DIR        (``make demo`` runs it into out/demo)

Inputs are real scans: the project's corpus (``../shared/data``) when present, otherwise the
MNI152 2009a T1 shipped by the nilearn package. Each step runs a module's logic against a
real MRML scene (slicer-core), writes its volumes as NIfTI and overlay pictures as PNG, and the
whole scene is saved as one Slicer bundle (``scene.mrb``) to open in 3D Slicer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

MODULES_DIR = Path(__file__).resolve().parents[2]
for _module_folder in sorted(MODULES_DIR.iterdir()):  # as Slicer does for each module path
    if (_module_folder / "CMakeLists.txt").is_file() and str(_module_folder) not in sys.path:
        sys.path.insert(0, str(_module_folder))

from MedSynthLib.headless import HeadlessSlicer, start_headless_slicer  # noqa: E402
from MedSynthLib.scene_files import load_volume, save_bundle  # noqa: E402
from MedSynthLib.volume_bridge import node_to_image  # noqa: E402
from medsynth.io import write_image  # noqa: E402
from medsynth.provenance import ATTRIBUTE_PREFIX  # noqa: E402
from medsynth.render import VIEWS, overlay_picture, write_png  # noqa: E402
from medsynth.sample_data import shared_data_dir, whole_head_t1_path  # noqa: E402


#: Node names of the fallback inputs (no corpus): what each file is, not the corpus scan a step names.
SAMPLE_NAMES = {"head_mr_skull_2mm.nii.gz": "head_mr_skull T1 (2 mm sample)",
                "mean_reg2mean.nii.gz": "pydeface mean head T1 template",
                "mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz": "MNI152 2009a T1 template"}


def sample_name(path: Path) -> str:
    return SAMPLE_NAMES.get(path.name, f"{path.name} sample")


@dataclass
class DemoContext:
    session: HeadlessSlicer
    out_dir: Path
    written: list[str] = field(default_factory=list)

    def input_volume(self, shared_relative: str, name: str):
        """A real scan from the corpus when present, else the sample whole-head T1 (inside every model's
        domain), named as what it is."""
        corpus = shared_data_dir()
        if corpus is None:
            path = whole_head_t1_path()
            return load_volume(self.session.scene, path, sample_name(path)), path
        path = corpus / shared_relative
        return load_volume(self.session.scene, path, name), path

    def save_volume(self, node, file_name: str) -> Path:
        path = write_image(node_to_image(node), self.out_dir / file_name)
        self.written.append(str(path.relative_to(self.out_dir)))
        return path

    def save_pictures(self, background_node, overlay_node, stem: str, threshold: float | None = None,
                      heat_range: tuple[float, float] | None = None, window: tuple[float, float] | None = None) -> None:
        background = node_to_image(background_node)
        overlay = node_to_image(overlay_node) if overlay_node is not None else None
        stamp = (overlay_node or background_node).GetAttribute(ATTRIBUTE_PREFIX + "OutsideDomain")
        for view in VIEWS:
            picture = overlay_picture(background, overlay, view, threshold=threshold, heat_range=heat_range,
                                      window=window)
            path = write_png(picture, self.out_dir / f"{stem}_{view}.png", stamp)
            self.written.append(str(path.relative_to(self.out_dir)))


def demo_runtime(context: DemoContext) -> dict:
    """The built-in demo-edges network through the runtime, shown as a heat overlay."""
    from MedSynthLib.hub_logic import HubLogic

    volume, source = context.input_volume("head_mr_skull/MR.nii.gz", "Head MR")
    edges = HubLogic().runModel(volume, "demo-edges")["edges"]
    context.save_volume(edges, "edges.nii.gz")
    context.save_pictures(volume, edges, "edges", threshold=0.08, heat_range=(0.0, 0.4))
    return {"input": str(source), "output": edges.GetName()}


def demo_synthct(context: DemoContext) -> dict:
    """The synthetic CT of a real head MR (MedSynthCT) with uncertainty, pictures and a DICOM series."""
    from MedSynthCTLib.demo_step import demo_synthct as synthct_step

    return synthct_step(context)


def demo_future(context: DemoContext) -> dict:
    """A real subject's T1 five years ahead (MedSynthFuture), change map pictures and volume table."""
    from MedSynthFutureLib.demo_step import demo_future as future_step

    return future_step(context)


def demo_anomaly(context: DemoContext) -> dict:
    """The anomaly map of a real scan with a chronic stroke lesion (MedSynthAnomaly), with pictures."""
    from MedSynthAnomalyLib.demo_step import demo_anomaly as anomaly_step

    return anomaly_step(context)


#: Demo steps in order; later capabilities add theirs here.
STEPS: list[tuple[str, Callable[[DemoContext], dict]]] = [
    ("runtime", demo_runtime),
    ("synthct", demo_synthct),
    ("future", demo_future),
    ("anomaly", demo_anomaly),
]


def run_demo(out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    context = DemoContext(start_headless_slicer(), out_dir)
    summary = {}
    for name, step in STEPS:
        started = time.perf_counter()
        print(f"[demo] {name} …", flush=True)
        summary[name] = {**step(context), "seconds": round(time.perf_counter() - started, 1)}
    bundle = save_bundle(context.session.scene, out_dir / "scene.mrb")
    context.written.append(bundle.name)
    summary["files"] = sorted(context.written)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the MedSynth demo on real sample images.")
    parser.add_argument("out_dir", type=Path, help="folder for volumes, pictures and scene.mrb")
    summary = run_demo(parser.parse_args().out_dir)
    print(f"[demo] wrote {len(summary['files'])} files; open scene.mrb in 3D Slicer.")


if __name__ == "__main__":
    main()
