"""Peak memory of refusing a NIfTI size bomb: a small .nii.gz whose header holds 1024³ int16 voxels.

Run: python Testing/benchmarks/size_bomb.py  (prints the file size, exit status and the child's peak RSS;
the refusal must stay under 500 MB, while reading the volume would need > 2 GB as int16, 4 GB as float32).
"""

from __future__ import annotations

import gzip
import resource
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

SIDE = 1024


def write_bomb(path: Path) -> None:
    header = bytearray(352)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, SIDE, SIDE, SIDE, 1, 1, 1, 1)
    struct.pack_into("<2h", header, 70, 4, 16)  # int16
    struct.pack_into("<8f", header, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into("<f", header, 108, 352.0)
    header[344:348] = b"n+1\0"
    zeros = bytes(1 << 24)
    with gzip.open(path, "wb", compresslevel=1) as handle:
        handle.write(bytes(header))
        for _ in range(SIDE ** 3 * 2 // len(zeros)):
            handle.write(zeros)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        bomb = Path(folder) / "bomb.nii.gz"
        write_bomb(bomb)
        done = subprocess.run([sys.executable, "-m", "medsynth", "info", str(bomb)], capture_output=True, text=True)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"file {bomb.stat().st_size / 2**20:.1f} MB on disk, {SIDE}^3 int16 = {SIDE**3 * 2 / 2**30:.1f} GiB of voxels")
        print(f"exit status {done.returncode}: {done.stderr.strip()}")
        print(f"peak RSS of the refusing process {peak_mb:.0f} MB (limit 500 MB; a full read needs > {SIDE**3 * 2 / 2**20:.0f} MB)")


if __name__ == "__main__":
    main()
