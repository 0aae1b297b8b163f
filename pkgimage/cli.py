"""The ``pkgimage`` command line (``python -m pkgimage``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def build_parser():
    p = argparse.ArgumentParser(prog="pkgimage", description="Julia-style package images for Python")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")
    b = sub.add_parser("build", help="build the images of modules (each in a fresh process)")
    b.add_argument("modules", nargs="+")
    b.add_argument("--quiet", action="store_true")
    b.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    b.add_argument("--allow-workload-errors", action="store_true",
                   help="write the image without the code of workloads that fail")
    b.add_argument("--workload-timeout", type=float, default=None,
                   help="seconds a module's workloads may run (default 600)")
    sub.add_parser("install-hook", help="install pkgimage-boot.pth so that the first import "
                                        "of a pkgimage module already uses its image")
    c = sub.add_parser("clean", help="remove images from the cache folder")
    c.add_argument("modules", nargs="*")
    return p


def cmd_build(args):
    if args.allow_workload_errors:
        os.environ["PKGIMAGE_ALLOW_WORKLOAD_ERRORS"] = "1"
    if args.workload_timeout is not None:
        os.environ["PKGIMAGE_WORKLOAD_TIMEOUT"] = str(args.workload_timeout)
    if args.in_process or os.environ.get("PKGIMAGE_BUILD_CHILD") == "1":
        from .build import main_build_one
        status = 0
        for m in args.modules:
            status |= main_build_one(m, quiet=args.quiet)
        return status
    status = 0
    for m in args.modules:
        env = dict(os.environ, PKGIMAGE_BUILD_CHILD="1")
        env.pop("PKGIMAGE_BUILDING", None)
        cmd = [sys.executable, "-m", "pkgimage", "build"] + (["--quiet"] if args.quiet else []) + [m]
        r = subprocess.run(cmd, env=env)
        if r.returncode != 0:
            status = r.returncode
    return status


def cmd_install_hook(args):
    import sysconfig
    site = sysconfig.get_paths()["purelib"]
    path = os.path.join(site, "pkgimage-boot.pth")
    with open(path, "w") as f:
        f.write("import _pkgimage_boot\n")
    print(f"installed {path}")
    return 0


def cmd_clean(args):
    import glob
    from .image.cache import cache_dir
    d = cache_dir()
    pats = [f"{m}-*" for m in args.modules] or ["*.pkgi", "*.so"]
    n = 0
    for pat in pats:
        for p in glob.glob(os.path.join(d, pat)):
            if p.endswith((".pkgi", ".so")):
                os.unlink(p)
                n += 1
    print(f"removed {n} file(s) from {d}")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.version or args.command is None:
        from . import __version__
        print(f"pkgimage {__version__}")
        return 0
    return {"build": cmd_build, "clean": cmd_clean, "install-hook": cmd_install_hook}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
