"""Records of employees (a struct) generated from a seeded random stream, then sorted,
grouped and summarised the way Python programmers do it: ``sorted`` with ``key=lambda``
(several keys, reversed, a tuple key), ``min``/``max`` with ``key``, ``functools.reduce``,
``map`` and ``filter`` with lambdas and named functions, and a key function chosen at run
time."""

import functools
import random
import sys

import pkgimage as pk

DEPARTMENTS = ("sales", "research", "support", "legal")
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "be", "do"]


@pk.mutable
class Employee:
    ident: int
    name: str
    dept: str
    age: int
    salary: float


@pk.generic
def make_staff(n: int):
    random.seed(2024)
    staff = []
    for i in range(n):
        name = "".join(random.choice(SYLLABLES) for _ in range(3)).capitalize()
        dept = DEPARTMENTS[random.randrange(len(DEPARTMENTS))]
        age = random.randint(21, 65)
        salary = random.randint(3000000, 12000000) / 100
        staff.append(Employee(i, name, dept, age, salary))
    return staff


@pk.generic
def by_salary(e: Employee):
    return e.salary


@pk.generic
def senior(e: Employee):
    return e.age >= 50


@pk.generic
def payroll(total: float, e: Employee):
    return total + e.salary


@pk.generic
def describe(e: Employee):
    return f"{e.ident:4d} {e.name} {e.dept:<8} {e.age:3d} {e.salary:10.2f}"


@pk.generic
def top(staff: list[Employee], k: int, key):
    return sorted(staff, key=key, reverse=True)[:k]


@pk.generic
def report(staff: list[Employee]):
    for e in sorted(staff, key=lambda r: r.name)[:5]:
        print("by name:", describe(e))
    for e in sorted(staff, key=lambda r: (r.dept, -r.age, r.ident))[:5]:
        print("by dept, oldest first:", describe(e))
    for e in top(staff, 3, by_salary):
        print("best paid:", describe(e))
    for e in top(staff, 3, lambda r: r.age * 1000.0 - r.salary / 100.0):
        print("oldest, cheapest:", describe(e))
    youngest = min(staff, key=lambda r: (r.age, r.ident))
    richest = max(staff, key=by_salary)
    print("youngest:", describe(youngest))
    print("richest:", describe(richest))
    total = functools.reduce(payroll, staff, 0.0)
    print(f"payroll {total:.2f}")
    oldest_age = functools.reduce(lambda a, b: a if a > b else b, map(lambda r: r.age, staff))
    print("oldest age:", oldest_age)
    seniors = list(filter(senior, staff))
    print("seniors:", len(seniors), "mean salary", f"{sum(map(by_salary, seniors)) / len(seniors):.2f}")
    for dept in DEPARTMENTS:
        members = [e for e in staff if e.dept == dept]
        names = sorted(map(lambda r: r.name, filter(lambda r: r.age < 30, members)))
        pay = sum(e.salary for e in members)
        print(f"{dept:<8} {len(members):4d} staff, {pay:14.2f} paid, under 30: {' '.join(names[:4])}")
    raises = list(map(lambda r: Employee(r.ident, r.name, r.dept, r.age, r.salary * 1.03),
                      filter(lambda r: r.dept == "research", staff)))
    print("after raises:", f"{functools.reduce(payroll, raises, 0.0):.2f}")
    return len(staff)


@pk.generic
def run(n: int):
    staff = make_staff(n)
    return report(staff)


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
