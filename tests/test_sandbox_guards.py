"""The sandbox as a sandbox (issue 16): what a workload starts cannot outlive it, threads of
the build process at the fork are named, the image cannot be redirected by a workload."""

import time

from test_sandbox import Proj


def _gone(pid, seconds=5):
    """Wait up to ``seconds`` for ``pid`` to end; True when it did."""
    for _ in range(int(seconds / 0.05)):
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_a_daemonised_grandchild_is_killed_with_the_sandbox(tmp_path):
    p = Proj(tmp_path)
    p.write("daemons", """\
        import os, sys, time
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True

        @pk.generic
        def f(x: Int64):
            return x + 1

        @pk.precompilation(__name__)
        def _w():
            f(1)
            if os.fork() == 0:               # the classic daemon: fork, setsid, fork
                os.setsid()
                if os.fork() == 0:
                    with open(os.environ["PIDFILE"] + ".tmp", "w") as fh:
                        fh.write(str(os.getpid()))
                    os.rename(os.environ["PIDFILE"] + ".tmp", os.environ["PIDFILE"])
                    time.sleep(1000)
                os._exit(0)
            while not os.path.exists(os.environ["PIDFILE"]):
                time.sleep(0.01)
        """)
    pidfile = tmp_path / "pid"
    t0 = time.monotonic()
    p.build("daemons", PIDFILE=pidfile)
    took = time.monotonic() - t0
    pid = int(pidfile.read_text())
    assert _gone(pid), "the daemon the workload started is still running"
    assert took < 4.5, took                      # (it used to delay the build by 5 s)


def test_threads_of_the_build_process_at_the_fork_are_named(tmp_path):
    p = Proj(tmp_path)
    p.write("threaded", """\
        import threading, time
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True
        threading.Thread(target=time.sleep, args=(3,), name="poller", daemon=True).start()

        @pk.generic
        def f(x: Int64):
            return x + 1

        @pk.precompilation(__name__)
        def _w():
            f(1)
        """)
    r = p.build("threaded")
    assert "other thread(s) running (poller)" in r.stderr, r.stderr


def test_a_lock_held_by_a_build_thread_at_the_fork_does_not_hang_the_workload(tmp_path):
    """A library thread of the build process holds its lock when the sandbox starts (as
    logging's or an allocator's may be): a forked sandbox inherited the lock held forever
    and the workload waited until its time limit.  The workloads now run in a fresh
    interpreter that loads the closed module from the checkpoint, with no such thread."""
    p = Proj(tmp_path)
    p.write("lockhelper", """\
        import threading, time
        LOCK = threading.Lock()
        held = threading.Event()
        def _hold():                     # holds the lock nearly all the time
            while True:
                with LOCK:
                    held.set()
                    time.sleep(0.5)
                time.sleep(0.001)
        threading.Thread(target=_hold, name="lock-holder", daemon=True).start()
        held.wait()
        def log(msg):
            with LOCK:
                return msg
        """)
    p.write("locked", """\
        import pkgimage as pk
        from pkgimage import Int64
        import lockhelper
        __pkgimage__ = True

        @pk.generic
        def f(x: Int64):
            return x + 1

        @pk.precompilation(__name__)
        def _w():
            lockhelper.log("warming up")
            print("workload result", f(41))
        """)
    t0 = time.monotonic()
    r = p.build("locked", PKGIMAGE_WORKLOAD_TIMEOUT="30")
    assert time.monotonic() - t0 < 25
    assert "ran past" not in r.stderr, r.stderr
    assert "other thread(s) running (lock-holder)" in r.stderr
    assert "fresh interpreter" in r.stderr
    assert "workload result 42" in r.stdout
    out = p.run_json("import locked\ndone({'v': locked.f(1), 'compiled': compiled()})")
    assert out == {"v": 2, "compiled": False}


def test_an_inprocess_workload_cannot_redirect_the_image(tmp_path):
    p = Proj(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    p.write("redirect", f"""\
        import os
        import pkgimage as pk
        from pkgimage import Int64
        __pkgimage__ = True

        @pk.generic
        def f(x: Int64):
            return x + 1

        @pk.precompilation(__name__)
        def _w():
            os.environ["PKGIMAGE_CACHE"] = {str(elsewhere)!r}
            f(1)
        """)
    p.build("redirect", PKGIMAGE_SANDBOX="inprocess")
    assert len(p.images()) == 1
    assert not elsewhere.exists() or not any(elsewhere.glob("*.pkgi"))
    out = p.run_json("import redirect\ndone({'v': redirect.f(1), 'compiled': compiled()})")
    assert out == {"v": 2, "compiled": False}


def test_inprocess_sandbox_keeps_the_time_limit(tmp_path):
    p = Proj(tmp_path)
    p.write("sleepy", """\
        import time
        import pkgimage as pk
        __pkgimage__ = True

        @pk.precompilation(__name__)
        def _w():
            time.sleep(1000)
        """)
    t0 = time.monotonic()
    r = p.build("sleepy", "--workload-timeout", "1", check=False, PKGIMAGE_SANDBOX="inprocess")
    assert r.returncode != 0 and time.monotonic() - t0 < 30
    assert "ran past their time limit (1 s) in the in-process sandbox" in r.stderr, r.stderr
    assert p.images() == []


def test_inprocess_workload_calling_os_exit_is_a_failed_build(tmp_path):
    p = Proj(tmp_path)
    p.write("quitter", """\
        import os
        import pkgimage as pk
        __pkgimage__ = True

        @pk.precompilation(__name__)
        def _w():
            os._exit(0)
        """)
    r = p.build("quitter", check=False, PKGIMAGE_SANDBOX="inprocess")
    assert r.returncode != 0
    assert "exited before writing the image" in r.stderr, r.stderr


def test_inprocess_workload_processes_do_not_outlive_it(tmp_path):
    p = Proj(tmp_path)
    pidfile = tmp_path / "pid"
    p.write("spawner", """\
        import os, subprocess, sys, time
        import pkgimage as pk
        __pkgimage__ = True

        @pk.precompilation(__name__)
        def _w():
            proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
            with open(os.environ["PIDFILE"], "w") as fh:
                fh.write(str(proc.pid))
        """)
    p.build("spawner", PKGIMAGE_SANDBOX="inprocess", PIDFILE=pidfile)
    pid = int(pidfile.read_text())
    assert _gone(pid)


def test_sigterm_to_pkgimage_build_takes_its_builders_and_sandbox_down(tmp_path):
    import signal
    import subprocess
    import sys
    p = Proj(tmp_path)
    pidfile = tmp_path / "pid"
    p.write("slowbuild", """\
        import os, time
        import pkgimage as pk
        __pkgimage__ = True

        @pk.precompilation(__name__)
        def _w():
            with open(os.environ["PIDFILE"] + ".tmp", "w") as fh:
                fh.write(str(os.getpid()))
            os.rename(os.environ["PIDFILE"] + ".tmp", os.environ["PIDFILE"])
            time.sleep(1000)
        """)
    proc = subprocess.Popen([sys.executable, "-m", "pkgimage", "build", "slowbuild"],
                            env=p.env(PIDFILE=pidfile), cwd=p.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(600):
        if pidfile.exists():
            break
        time.sleep(0.05)
    sandbox = int(pidfile.read_text())
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert _gone(sandbox), "the workload's sandbox outlived the build"
    assert p.images() == []
    assert sorted(p.tmp.iterdir()) == []
