"""A SIGTERM (a job scheduler, `kill`) while an output is being written unwinds like Ctrl-C: exit status
130, a one-line message, and no partial or hidden temporary file left beside the output."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from bad_inputs import fingerprint, write

#: `medsynth info` whose work is replaced by a write that is killed half-way (the real atomic writer).
KILLED_WHILE_WRITING = textwrap.dedent("""
    import os, signal, sys
    import medsynth.cli.info_cmd as info
    from medsynth.cli import main
    from medsynth.io import atomic_path

    def killed_while_writing(args):
        with atomic_path(sys.argv[2]) as tmp:
            tmp.write_bytes(b"half a volume")
            os.kill(os.getpid(), signal.SIGTERM)
            tmp.write_bytes(b"never reached")
        return 0

    info._run = killed_while_writing
    sys.exit(main(["info", sys.argv[1]]))
""")


def test_sigterm_while_writing_leaves_no_partial_file(tmp_path: Path) -> None:
    image = write(tmp_path / "t1.nii.gz")
    before = fingerprint(tmp_path)
    done = subprocess.run([sys.executable, "-c", KILLED_WHILE_WRITING, str(image), str(tmp_path / "result.nii.gz")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "interrupted" in done.stderr and "Traceback" not in done.stderr
    assert fingerprint(tmp_path) == before
