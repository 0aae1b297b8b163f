"""``python -m demopkg N OUTDIR`` (with ``examples`` on the path)."""

import sys

from .generate import main

sys.exit(main())
