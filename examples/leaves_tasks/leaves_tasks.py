"""Seed 002, problem 2, solved: a workload that leaves things running.

A realistic workload of a networking or concurrency package starts a server, background
threads and tasks, opens files and spawns helper processes -- and tracking all of them down
and shutting them down before the image is written is "difficult and error prone".  Here the
post-close workload leaves, on purpose:

* a non-daemon thread that never finishes (it would keep a normal interpreter from exiting),
* an asyncio event loop running forever in a thread, with a task that never completes,
* a TCP socket listening on 127.0.0.1 (an ephemeral port), with a thread accepting on it,
* an open file,
* a subprocess (a Python process sleeping 1000 s),

and stores some of them in module globals.  None of it reaches the image: the workload runs
in a forked sandbox, after the module was closed and checkpointed; the sandbox sends back
only the code it compiled, and its whole process group is killed, the ``sleep`` included.
The build finishes promptly and the image loads as the module was at its close.

If ``LEAVES_TASKS_PIDFILE`` is set, the workload writes the ``sleep`` process's pid there
(tests check that it is gone after the build).
"""

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading

import pkgimage as pk
from pkgimage import Float64, Int64

__pkgimage__ = True

SERVER = None            # what the workload leaves behind (never in the image)
HANDLES = []


@pk.generic
def checksum(n: Int64):
    """A small kernel the workload compiles (and the image keeps)."""
    s = 0
    for i in range(n):
        s = (s * 31 + i) % 1000003
    return s


@pk.generic
def mean3(a: Float64, b: Float64, c: Float64):
    return (a + b + c) / 3.0


def _forever(ev):
    ev.wait()                          # nobody ever sets it


@pk.precompilation(__name__)
def _workload():
    global SERVER
    # 1. a non-daemon thread that never ends
    stop = threading.Event()
    t = threading.Thread(target=_forever, args=(stop,), name="leaves_tasks-forever",
                         daemon=False)
    t.start()

    # 2. an asyncio loop running in a thread, with a pending task
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="leaves_tasks-loop", daemon=False).start()

    async def pending():
        await asyncio.sleep(10_000)
        return checksum(10)

    task = asyncio.run_coroutine_threadsafe(pending(), loop)

    # 3. a listening socket, with a thread blocked in accept()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    threading.Thread(target=srv.accept, name="leaves_tasks-accept", daemon=False).start()
    SERVER = srv

    # 4. an open file
    f = tempfile.TemporaryFile()
    f.write(b"left open by the workload")

    # 5. a spawned subprocess
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
    pidfile = os.environ.get("LEAVES_TASKS_PIDFILE")
    if pidfile:
        with open(pidfile, "w") as pf:
            pf.write(str(proc.pid))

    HANDLES.extend([t, loop, task, srv, f, proc])

    # ... and the work that compiles what the image should keep
    assert checksum(1000) == checksum(1000)
    assert mean3(1.0, 2.0, 3.0) == 2.0
