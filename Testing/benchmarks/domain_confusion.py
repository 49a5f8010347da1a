"""The domain gate's errors on every real scan: true vs detected contrast and skull, and the verdicts.

Ground truth is ``shared/data/DOMAINS.tsv`` (modality, contrast, skull of each real scan, plus two
scans that ship inside packages: nilearn's MNI152 2009a brain and pydeface's mean head). Each scan
goes through :func:`medsynth.domain.measure_domain`; the script prints one row per scan, the two
confusion tables (contrast, skull) and, per built-in card, how many scans the gate lets in.

Data label: every scan here is **used-for-calibration** — the gate's round-number thresholds were
chosen with these scans in view (see :mod:`medsynth.domain.tissues`); none is untouched.

    python Testing/benchmarks/domain_confusion.py [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
from collections import Counter
from pathlib import Path

CONTRASTS = ("T1", "T1post", "T2", "FLAIR", "PD", "CT")
_TRUE_CONTRAST = {"T1": "T1", "T1 post-contrast": "T1post", "T1 post-contrast (MPRAGE)": "T1post", "T2": "T2",
                  "FLAIR": "FLAIR", "PD": "PD", "CT": "CT"}


def scans(shared: Path) -> list[tuple[str, Path, str, bool]]:
    """(name, path, true contrast, true skull) of every row of DOMAINS.tsv that exists here."""
    found = []
    with open(shared / "DOMAINS.tsv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            contrast, skull = _TRUE_CONTRAST[row["contrast"]], row["skull"].startswith("yes")
            for path in _paths(shared, row["path"]):
                found.append((str(path.relative_to(shared)) if path.is_relative_to(shared) else row["path"],
                              path, contrast, skull))
    return found


def _paths(shared: Path, entry: str) -> list[Path]:
    if entry.startswith("package:"):
        package_spec, _, inner = entry[len("package:"):].partition(":")
        spec = importlib.util.find_spec(package_spec.split("==")[0])
        if spec is None or spec.origin is None:
            return []
        path = Path(spec.origin).parent.parent / inner
        return [path] if path.exists() else []
    return sorted(shared.glob(entry)) if "*" in entry else [shared / entry]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print tables as Markdown (for the README)")
    args = parser.parse_args()
    from medsynth.domain import OutsideDomainError, enforce_domain, measure_domain
    from medsynth.io import read_image
    from medsynth.models import ModelRegistry
    from medsynth.sample_data import shared_data_dir

    shared = shared_data_dir()
    if shared is None:
        sys.exit("shared/data not found (set MEDSYNTH_SHARED_DATA)")
    cards = [entry.card for entry in ModelRegistry.default().entries() if entry.card.domain is not None]
    contrast_table, skull_table, accepted = Counter(), Counter(), Counter()
    rows = []
    for name, path, true_contrast, true_skull in scans(shared):
        image = read_image(path)
        report = measure_domain(image)
        contrast_table[true_contrast, report.contrast] += 1
        skull_table[true_skull, report.skull] += 1
        verdicts = []
        for card in cards:
            try:
                enforce_domain(image, card, report=report)
                verdicts.append("in")
                accepted[card.id] += 1
            except OutsideDomainError:
                verdicts.append("out")
        rows.append((name, true_contrast, report.contrast, f"{report.contrast_confidence:.2f}",
                     _yes(true_skull), _yes(report.skull), *verdicts))
    header = ("scan", "true contrast", "detected", "confidence", "true skull", "detected skull",
              *(card.id for card in cards))
    _table(header, rows, args.markdown)
    print()
    present = [c for c in CONTRASTS if any(k[0] == c or k[1] == c for k in contrast_table)]
    _table(("true \\ detected", *present),
           [(t, *(str(contrast_table[t, d]) for d in present)) for t in present], args.markdown)
    print()
    _table(("true skull \\ detected", "yes", "no"),
           [(_yes(t), str(skull_table[t, True]), str(skull_table[t, False])) for t in (True, False)], args.markdown)
    total = len(rows)
    contrast_right = sum(n for (t, d), n in contrast_table.items() if t == d)
    skull_right = sum(n for (t, d), n in skull_table.items() if t == d)
    print(f"\n{total} scans (all used-for-calibration): contrast right {contrast_right}/{total}, "
          f"skull right {skull_right}/{total}; accepted per card: "
          + ", ".join(f"{card.id} {accepted[card.id]}/{total}" for card in cards))


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _table(header, rows, markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


if __name__ == "__main__":
    main()
