"""The WSGI entry point gunicorn serves."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import ROOT, environment


def test_loading_the_app_leaves_its_objects_out_of_the_garbage_collectors_reach(tmp_path):
    """Full collections in a worker walk what requests made, not every module and model of the app (gc.freeze)."""
    script = "import gc; import followthrough.wsgi; print(gc.get_freeze_count())"
    env = environment(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 10_000  # the app's modules, classes and models (about 130,000)
