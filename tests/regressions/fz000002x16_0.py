import pkgimage as pk

from pkgimage import Int64, Float64, Real, Any

T = pk.TypeVar("T", bound=Real)

__pkgimage__ = True

@pk.struct
class S0:
    p: Float64
    q: Int64

@pk.struct
class P4(pk.Generic[T]):
    x: T
    y: T
    z: Int64

@pk.generic
def f0(a: T, b: T):
    b -= (((2 - (-3166)) - ((-1) and 2682)) + ((1048576 // 1544) or (2150 if (T(7) > (-1946)) else 2)))
    b %= 1000003
    b = ((5 + (-2093)) ** 0)
    for i1 in range((-2), (-2)):
        t2 = T(10)
        if (i1 < 10 != i1):
            t3 = ((-(-50.0)) * b)
        else:
            t4 = P4[T](T(i1), T(i1), (-100))
    return (P4[Float64](250000.0, ((-1322) * 1), ((-100) if (2600 != T(7)) else 12345)) if ((-2520) and ((-2.25) <= T((-3)))) else P4[Float64]((1000.0 * 0.001), S0(5, 3).p, ((-1048576) and 100)))

@pk.generic
def f3(a: T, b: T):
    f0(((-1), 3), (P4[Float64](163.0, 12345, 3) if (T(2) < (-1)) else P4[Float64]((-490), 1, (-100))))
    a = ((((-2834) ** 3) if (12345 > (-4305)) else max(10, 2)) % 1048583)
    b = (((-4257) - 3) - 3230)
    a += (999983 % 2)
    a %= 7
    return S0((-441.808), (-2017))

@pk.base.mul.method
def _(a: P4[Int64], b: Float64):
    t1 = ((2538 and 100), (12345 * 2))
    f0(b, b)
    w2 = 0
    while w2 < 6:
        w2 += 1
        t3 = min(t1[(w2 if (w2 > w2) else w2) % 2], (len(t1) + (w2 * a.x)))
        f0(((w2, w2) if ((-1) == b) else (0, 100)), a)
    w4 = 0
    while w4 < 2:
        w4 += 1
        t5 = int((b - 0.0))
    return f0(217.916, b)

pk.precompile(pk.base.mul, (P4[Int64], Float64,))

