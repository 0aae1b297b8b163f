"""A workload using both packages: registered to fixedpoint's build through pyproject."""
import pkgimage as pk
import fixedpoint as fp

@pk.precompilation(fp)
def _both():
    import genericlinalg as gla
    x = fp.fixed(2)
    r = gla.dot3(x, x, x, x, x, x)
    assert fp.tofloat(r) == 12.0
