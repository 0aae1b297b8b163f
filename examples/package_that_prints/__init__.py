"""PackageThatPrints (seed 004, Box 1): what happens transiently while a module is defined does
not "make it" into its image.

Julia::

    module PackageThatPrints
    println("This prints only during precompilation")
    function __init__()
        println("This prints every time the package is loaded")
    end
    end

The top-level ``print`` runs whenever this module's top level runs: on a plain import, and
when its image is built.  A module-level ``__init__()`` is what pkgimage runs after every
load of an image (the image does not re-run the top level).  A plain Python import does not
call ``__init__`` by itself; the image loader does.
"""

print("This prints only during precompilation")


def __init__():
    print("This prints every time the package is loaded")
