"""``medsynth synthesize cohort``: labelled synthetic 2D T1 slices with chosen factors."""

from __future__ import annotations

import argparse
from pathlib import Path

from medsynth.cli.progress import progress_bar
from medsynth.errors import InputError
from medsynth.sample_data import shared_data_dir
from medsynth.tasks.synthesis.cohort import APPEARANCES, CohortRequest, write_cohort
from medsynth.tasks.synthesis.factors import factor_space

_DESCRIPTION = """\
Make N labelled synthetic cases (2D axial T1 slices, 2 mm, 96 x 96) of a chosen patient group.
Each case = a real healthy slice (ANATOMY folder + MUSE/DLMUSE label maps) + a real lesion shape
(LESIONS folder of binary masks) scaled to the asked size and placed in the asked region + the
lesion's appearance painted by the synthesis model (or the procedural baseline) + an acquisition
style. OUT gets images/, labels/, manifest.csv (every factor value per case), provenance.json;
every image is marked synthetic. Re-running the same command resumes; --workers / --scheduler run
the cases on Dask.

Fix or restrict factors with --factor NAME=VALUE, NAME=LOW-HIGH or NAME=A,B; the rest are drawn
over their whole range, each from its own seeded stream (changing one factor never changes another).
"""


def _factor_help() -> str:
    lines = ["factors:"]
    for factor in factor_space(["<subject>"]).values():
        allowed = ", ".join(factor.categories) if factor.categories else f"{factor.limits[0]:g}-{factor.limits[1]:g} {factor.units}"
        lines.append(f"  {factor.name}: {factor.description} ({allowed.strip()})")
    lines.append("  (anatomy: a subject name of the anatomy folder; lesion_contrast: the model's trained range)")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("synthesize", help="make labelled synthetic cases of a chosen patient group")
    kinds = parser.add_subparsers(dest="synthesize_kind", metavar="KIND", required=True)
    cohort = kinds.add_parser("cohort", help="a cohort of labelled 2D T1 slices with chosen factors",
                              description=_DESCRIPTION, epilog=_factor_help(),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    cohort.add_argument("--n", type=int, required=True, help="number of cases")
    cohort.add_argument("--out", type=Path, required=True, help="output folder")
    cohort.add_argument("--factor", action="append", default=[], metavar="NAME=VALUE", help="fix/restrict a factor")
    cohort.add_argument("--seed", type=int, default=0)
    cohort.add_argument("--model", help="synthesis model id (default: the installed one)")
    cohort.add_argument("--appearance", choices=APPEARANCES, default="learned",
                        help="lesion painter: the learned model or the procedural baseline (default %(default)s)")
    cohort.add_argument("--anatomy", type=Path, help="folder of healthy T1 scans (default: shared subjects_t1)")
    cohort.add_argument("--anatomy-labels", type=Path,
                        help="their MUSE/DLMUSE label maps, matched by name prefix (default: ANATOMY/dlmuse)")
    cohort.add_argument("--lesions", type=Path, help="folder of binary lesion masks (default: shared lesions_mni)")
    cohort.add_argument("--workers", type=int, help="local Dask worker processes")
    cohort.add_argument("--scheduler", help="address of an existing Dask scheduler")
    cohort.set_defaults(func=run_cohort)


def _default(path: Path | None, relative: str, option: str) -> Path:
    if path is not None:
        return path
    data = shared_data_dir()
    if data is None:
        raise InputError(f"Give {option}: no shared data corpus was found for its default.")
    return data / relative


def run_cohort(args: argparse.Namespace) -> int:
    anatomy = _default(args.anatomy, "subjects_t1", "--anatomy")
    request = CohortRequest(
        out=args.out, n=args.n, anatomy_images=anatomy, anatomy_labels=args.anatomy_labels or anatomy / "dlmuse",
        lesions=_default(args.lesions, "lesions_mni", "--lesions"), factors=tuple(args.factor), seed=args.seed,
        model=args.model, appearance=args.appearance)
    with progress_bar("synthesize") as progress:
        manifest = write_cohort(request, workers=args.workers, scheduler=args.scheduler,
                                progress=lambda done, total: progress(done / total))
    print(f"wrote {args.n} synthetic cases and {manifest}")
    return 0
