"""Ring_base (seed 003): the ring operations, as generic functions without methods.

Julia::

    module Ring_base
    export addxy, mulxy
    function addxy end
    function mulxy end
    end
"""

import pkgimage as pk

addxy = pk.function("addxy")
mulxy = pk.function("mulxy")

__all__ = ["addxy", "mulxy"]
