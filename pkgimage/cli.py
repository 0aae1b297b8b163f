"""The ``pkgimage`` command line (``python -m pkgimage``): argument parsing only; the commands
live in ``pkgimage/tools``.  Bad input gives one line on stderr and a non-zero exit status (2),
a failed build or check exit status 1; ``--debug`` shows tracebacks."""

from __future__ import annotations

import argparse
import os
import sys


def _jobs(text):
    """``-j``: a whole number of builds at once, at least 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of builds, got {text!r}")
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _seconds(text):
    """``--workload-timeout``: a finite number of seconds greater than zero."""
    import math
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    if not math.isfinite(x) or x <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds greater than 0, "
                                         f"got {text}")
    return x


def build_parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks")
    p = argparse.ArgumentParser(prog="pkgimage", parents=[common],
                                description="Julia-style package images for Python")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    b = sub.add_parser("build", parents=[common],
                       help="build the images of modules and of their pkgimage dependencies, "
                            "in dependency order, in parallel, each in a fresh process")
    b.add_argument("modules", nargs="+", metavar="MODULE")
    b.add_argument("-j", "--jobs", type=_jobs, default=None,
                   help="builds at once (default: the number of cores)")
    b.add_argument("--force", action="store_true", help="rebuild images that are up to date")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")
    b.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    b.add_argument("--allow-workload-errors", action="store_true",
                   help="write the image without the code of workloads that fail")
    b.add_argument("--workload-timeout", type=_seconds, default=None,
                   help="seconds a module's workloads may run (default 600)")
    b.add_argument("--workload-file", action="append", default=None, metavar="FILE",
                   help="also run the @pk.precompilation workloads of this file "
                        "(e.g. one written by `pkgimage snoop`)")
    b.add_argument("--executor", default=None, metavar="dask://SCHEDULER",
                   help="build on a Dask cluster (workers share the store tiers)")
    b.add_argument("--shard", default=None, metavar="I/N",
                   help="build the I-th of N shares; other shares' images come from the store")
    b.add_argument("--shard-timeout", type=float, default=600, metavar="SECONDS",
                   help="how long to wait for another shard's image before building it here")

    v = sub.add_parser("verify", parents=[common],
                       help="CI check: images are byte-reproducible and their workloads "
                            "replay without compiling")
    v.add_argument("modules", nargs="+", metavar="MODULE")
    v.add_argument("--json", action="store_true", help="print a machine-readable report")
    v.add_argument("-j", "--jobs", type=_jobs, default=None)
    v.add_argument("--keep", action="store_true", help="keep the temporary build folders")
    v.add_argument("--workload-timeout", type=_seconds, default=None)

    s = sub.add_parser("show", parents=[common],
                       help="what a module's image holds (and which image owns what)")
    s.add_argument("module", metavar="MODULE")
    s.add_argument("--json", action="store_true")

    t = sub.add_parser("tree", parents=[common],
                       help="MethodInstances of a function with their backedge trees")
    t.add_argument("function", metavar="MODULE.FUNCTION")
    t.add_argument("-c", "--exec", dest="code", default=None, metavar="CODE",
                   help="run this Python code in the module's namespace first")

    i = sub.add_parser("invalidations", parents=[common],
                       help="run a script and print what it invalidated, as trees")
    i.add_argument("script", metavar="SCRIPT")
    i.add_argument("args", nargs="*", metavar="ARG",
                   help="arguments of the script (after `--` when they start with -)")

    n = sub.add_parser("snoop", parents=[common],
                       help="run a script and write a workload covering what it compiled")
    n.add_argument("script", metavar="SCRIPT")
    n.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="workload file to write (default: print it)")
    n.add_argument("--build", action="store_true",
                   help="build the owning modules' images (and context images) with it")
    n.add_argument("-j", "--jobs", type=_jobs, default=None)
    n.add_argument("args", nargs="*", metavar="ARG",
                   help="arguments of the script (after `--` when they start with -)")

    c = sub.add_parser("clean", parents=[common], help="remove images from the cache folder")
    c.add_argument("modules", nargs="*", metavar="MODULE")

    from .tools.remote import add_parsers
    STORE_COMMANDS.update(add_parsers(sub, common))

    sub.add_parser("install-hook", parents=[common],
                   help="install pkgimage-boot.pth so that the first import of a pkgimage "
                        "module already uses its image")
    return p


def _interrupt_on_termination(exc):
    """SIGTERM (CI cancel, ``timeout``) and SIGHUP (a closed terminal) end a build as Ctrl-C
    does: the same cleanup runs (builders and their sandboxes killed, temporary files
    removed) instead of the process vanishing and leaving them behind."""
    import signal

    def handler(signum, frame):
        raise exc(f"pkgimage: build interrupted by {signal.Signals(signum).name}")

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, handler)


class _Terminated(KeyboardInterrupt):
    pass


def cmd_build(args):
    _interrupt_on_termination(_Terminated)
    from .settings import settings
    if args.allow_workload_errors:
        settings.set(allow_workload_errors=True)
    if args.workload_timeout is not None:
        settings.set(workload_timeout=args.workload_timeout)
    if args.in_process or settings.build_child:
        # One module in this process (what the import hook and the parallel builder run).
        from .build import main_build_one
        status = 0
        for m in args.modules:
            for wf in args.workload_file or ():
                from .tools.snoop import load_workload_file
                load_workload_file(wf, m)
            status |= main_build_one(m, quiet=args.quiet)
        return status
    from .tools.clean import check_cache_writable
    check_cache_writable()
    if args.executor or args.shard:
        from .tools.cluster import cmd_build_distributed
        return cmd_build_distributed(args)
    from .tools.build import build
    status, _ = build(args.modules, jobs=args.jobs, force=args.force, quiet=args.quiet,
                      allow_workload_errors=args.allow_workload_errors,
                      workload_timeout=args.workload_timeout, workload_file=args.workload_file,
                      debug=getattr(args, "debug", False))
    return status


def cmd_verify(args):
    from .tools.verify import verify
    return verify(args.modules, as_json=args.json, jobs=args.jobs, keep=args.keep,
                  workload_timeout=args.workload_timeout)


def cmd_show(args):
    from .tools.show import show
    return show(args.module, as_json=args.json)


def cmd_tree(args):
    from .tools.show import tree
    return tree(args.function, code=args.code)


def cmd_invalidations(args):
    from .tools.invalidations import invalidations
    return invalidations(args.script, args.args)


def cmd_snoop(args):
    from .tools.snoop import snoop
    return snoop(args.script, args.args, output=args.output, build=args.build, jobs=args.jobs)


def cmd_clean(args):
    from .tools.clean import clean
    return clean(args.modules)


def cmd_install_hook(args):
    import sysconfig
    site = sysconfig.get_paths()["purelib"]
    path = os.path.join(site, "pkgimage-boot.pth")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    line = 'import sys; exec("try:\\n import _pkgimage_boot\\nexcept Exception:\\n pass")\n'
    shipped = os.path.join(here, "pkgimage-boot.pth")
    if os.path.isfile(shipped):
        with open(shipped) as f:
            line = f.read()
    with open(path, "w") as f:
        f.write(line)
    print(f"installed {path}")
    return 0


STORE_COMMANDS: dict = {}          # push, pull, export, import, stats, explain, gc, keygen

COMMANDS = {"build": cmd_build, "verify": cmd_verify, "show": cmd_show, "tree": cmd_tree,
            "invalidations": cmd_invalidations, "snoop": cmd_snoop, "clean": cmd_clean,
            "install-hook": cmd_install_hook}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__
        print(f"pkgimage {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    # Like `python -m`: modules are found in the working folder too.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    from .settings import settings
    debug = getattr(args, "debug", False) or settings.debug
    if debug:
        settings.set(debug=True)         # (build children show their tracebacks too)
    from .tools import ToolError
    try:
        return {**COMMANDS, **STORE_COMMANDS}[args.command](args)
    except ToolError as e:
        if debug:
            raise
        print(f"pkgimage {args.command}: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("pkgimage: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            raise
        print(f"pkgimage {args.command}: {type(e).__name__}: {e} (--debug shows the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
