"""``python -m pkgimage`` is the ``pkgimage`` command."""
from .cli import main

raise SystemExit(main())
