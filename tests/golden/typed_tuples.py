"""Golden typed IR: tuples (packing, unpacking with its length check, constant and
variable indices, tuple-returning calls)."""
import pkgimage as pk
from pkgimage import Int64, Float64

GOLDEN = [("swap", (Int64, Float64)), ("divmod2", (Int64, Int64)), ("use", (Int64,)),
          ("hsum", (pk.Tuple[Int64, Int64, Int64],))]


@pk.generic
def swap(a: Int64, b: Float64):
    a, b = b, a
    return a, b


@pk.generic
def divmod2(a: Int64, b: Int64):
    return a // b, a % b


@pk.generic
def use(n: Int64):
    q, r = divmod2(n, 7)
    return q + r


@pk.generic
def hsum(t: pk.Tuple[Int64, Int64, Int64]):
    s = t[-1]
    for x in t:
        s += x
    return s
