"""Build hook: ship ``pkgimage-boot.pth`` at the root of the wheel (as coverage and
setuptools' own ``distutils-precedence.pth`` are shipped), so that a plain ``pip install``
-- wheel, sdist or editable -- gives images on the first import of a process with no extra
step, and ``pip uninstall`` removes it with the package (it is in the wheel's RECORD).  The
line it holds imports the boot finder inside ``try``: a ``.pth`` left behind can never print
an error at Python's start.  Everything else is in pyproject.toml."""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "pkgimage-boot.pth"


class BuildPyWithPth(build_py):
    def run(self):
        super().run()
        self.copy_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), PTH),
                       os.path.join(self.build_lib, PTH), preserve_mode=0)

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [os.path.join(self.build_lib, PTH)]


def _pth_text():
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), PTH)) as f:
        return f.read()


CMDCLASS = {"build_py": BuildPyWithPth}

try:
    from setuptools.command.editable_wheel import editable_wheel

    class _StrategyWithPth:
        """Wraps setuptools' editable strategy: the editable wheel gets the ``.pth`` too."""

        def __init__(self, strategy):
            self.strategy = strategy

        def __enter__(self):
            self.strategy.__enter__()
            return self

        def __exit__(self, *exc):
            return self.strategy.__exit__(*exc)

        def __call__(self, wheel, files, mapping):
            self.strategy(wheel, files, mapping)
            wheel.writestr(PTH, _pth_text())

    class EditableWheelWithPth(editable_wheel):
        def _select_strategy(self, *args, **kwargs):
            return _StrategyWithPth(super()._select_strategy(*args, **kwargs))

    if hasattr(editable_wheel, "_select_strategy"):     # (a private hook of setuptools)
        CMDCLASS["editable_wheel"] = EditableWheelWithPth
except ImportError:
    pass

setup(cmdclass=CMDCLASS)
