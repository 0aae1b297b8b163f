"""The ``pkgimage`` command line (``python -m pkgimage``)."""

from __future__ import annotations

import argparse
import sys


def build_parser():
    p = argparse.ArgumentParser(prog="pkgimage", description="Julia-style package images for Python")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_subparsers(dest="command")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.version or args.command is None:
        from . import __version__
        print(f"pkgimage {__version__}")
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
