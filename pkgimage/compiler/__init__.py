"""The compiler: frontend (AST -> IR), inference (IR -> CodeInstances with edges), codegen
(typed IR -> LLVM IR), jit (object code -> loaded native code), joined by ``pipeline``.

Imports run one way: frontend -> inference -> codegen -> jit -> pipeline."""
