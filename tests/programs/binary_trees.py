"""Binary trees (the Benchmarks Game's allocation benchmark), with mutable tree nodes:
build a stretch tree, a long-lived tree, then many short-lived trees per depth, counting the
nodes of each by walking it."""

import sys
from typing import Optional

import pkgimage as pk


@pk.mutable
class Node:
    left: Optional["Node"]
    right: Optional["Node"]


@pk.generic
def make_tree(depth: int) -> Node:
    if depth == 0:
        return Node(None, None)
    depth -= 1
    return Node(make_tree(depth), make_tree(depth))


@pk.generic
def check_tree(node: Node) -> int:
    if node.left is None:
        return 1
    return 1 + check_tree(node.left) + check_tree(node.right)


@pk.generic
def run(n: int):
    min_depth = 4
    max_depth = max(min_depth + 2, n)
    stretch = max_depth + 1
    print(f"stretch tree of depth {stretch}\t check: {check_tree(make_tree(stretch))}")
    long_lived = make_tree(max_depth)
    for depth in range(min_depth, max_depth + 1, 2):
        iterations = 2 ** (max_depth - depth + min_depth)
        check = 0
        for i in range(iterations):
            check += check_tree(make_tree(depth))
        print(f"{iterations}\t trees of depth {depth}\t check: {check}")
    print(f"long lived tree of depth {max_depth}\t check: {check_tree(long_lived)}")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
