import pkgimage as pk

from pkgimage import Int64, Float64, Real, Any

T = pk.TypeVar("T", bound=Real)

__pkgimage__ = True

from fz000002x16_0 import S0, P4, f0, f3

@pk.struct
class S3:
    p: Int64
    q: Float64
    r: Int64

K0 = (-7.75)

@pk.base.sub.method
def _(u: P4[Float64], v: P4[T]):
    t1 = (-(-4385))
    t1 -= int((1.5 % 7))
    t1 %= 97
    for i2 in range((t1 % 2) % 5):
        i2 = (((u.z % (-1000)) ** 2) % 5)
        i2 *= (t1 if v.z else (u.z % u.z))
        i2 %= 2
    return P4[Int64](t1, 3735, (2946 and t1))

@f0.method
def _(n: pk.Tuple[Int64, Int64], m: P4[T]):
    return P4[Float64]((7 / (-4.0)), 1000.0, (-3))

@pk.generic
def f4(x: T, y: T):
    x = (((-3) + K0) * ((-2.25) if (T(100) >= T((-2933))) else 6.5))
    w1 = 0
    while w1 < 2 and (not (T(w1) <= x)):
        w1 += 1
        w2 = 0
        while w2 < 0 and (S3(w1, 0.0, w2) == P4[Int64](w2, (-100), w2)):
            w2 += 1
            t3 = ((T(w2) * 976.448) if (T(w2) < T(w1)) else P4[Float64](K0, K0, w2).y)
    return f0((((w1, (-100)) if (w1 >= T(w1)) else (2387, (-1))) if (K0 <= T((-3122))) else (w1, w1)), ((P4[Int64](w1, w1, w1) * K0) - P4[Int64](w1, 100, w1)))

if pk.generating_output():
    try:
        f4(6.5, 1.5)
    except Exception:
        pass
