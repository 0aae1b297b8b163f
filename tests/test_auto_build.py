"""Background (auto) builds (``pkgimage/build/auto.py``): a failed one leaves a log beside the
image and is reported in one line naming it, once; it is not retried at every import, only
after the source changes; a later success removes the record."""

from __future__ import annotations

import os
import json
import time

from imagetools import Project

FAILING = """
import threading
import pkgimage as pk
from pkgimage import Int64
__pkgimage__ = True
LOCK = threading.Lock()          # cannot be stored in an image: every build fails
@pk.generic
def f(x: Int64):
    return x + 1
"""


def _wait_for(pred, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def test_failed_background_build_is_reported_once_and_not_retried(tmp_path):
    proj = Project(tmp_path)
    proj.write("autofail", FAILING)
    probe = "import autofail\ndone({'v': autofail.f(1)})"
    first = proj.run_json(probe, PKGIMAGE_AUTO="1")
    assert first["v"] == 2 and "Precompiling autofail" in first["_stderr"]
    # (not the temporary file an atomic write renames into place, which may still be there)
    failed = lambda: [n for n in proj.files() if n.endswith(".pkgi.failed")   # noqa: E731
                      and not os.path.basename(n).startswith(".tmp-")]
    assert _wait_for(failed), proj.files()
    log = proj.cache / failed()[0].replace(".failed", ".log")
    assert "LOCK" in log.read_text()
    second = proj.run_json(probe, PKGIMAGE_AUTO="1")
    lines = [ln for ln in second["_stderr"].splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert "failed" in lines[0] and str(log) in lines[0] and "LOCK" in lines[0], lines
    record = proj.cache / failed()[0]
    assert json.loads(record.read_text())["reported"] is True
    for _ in range(2):                       # silent now, and no build started
        again = proj.run_json(probe, PKGIMAGE_AUTO="1")
        assert again["v"] == 2 and again["_stderr"].strip() == "", again["_stderr"]
    # (a build started again would fail again and write a record not yet reported)
    time.sleep(3.0)
    assert json.loads(record.read_text())["reported"] is True, "a build was started again"
    # an edit that fixes the module: built in the background, the failure record goes
    proj.write("autofail", FAILING.replace("LOCK = threading.Lock()", "LOCK = None"))
    fixed = proj.run_json(probe, PKGIMAGE_AUTO="1")
    assert "Precompiling autofail" in fixed["_stderr"]
    assert _wait_for(lambda: proj.images("autofail") and not failed()), proj.files()
    out = proj.run_json(probe + "\n", PKGIMAGE_AUTO="1")
    assert out["v"] == 2 and out["_stderr"].strip() == ""
    assert not [n for n in proj.files() if n.endswith((".log", ".failed"))], proj.files()


def test_explicit_build_failure_is_printed_once_with_the_users_file_and_line(tmp_path):
    proj = Project(tmp_path)
    path = proj.write("topfail", """
        import pkgimage as pk
        __pkgimage__ = True
        def helper():
            return {}["missing"]
        if pk.generating_output():
            helper()
    """)
    r = proj.build("topfail", check=False)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("pkgimage: building topfail failed: KeyError: 'missing'")
    assert f"{path}:5" in lines[0] and "pkgimage/" not in lines[0], lines[0]
    assert "Traceback" not in r.stderr
