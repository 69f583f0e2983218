"""Two LLVM-level building blocks for a first layer that skips an image's zero pixels.

About 80 % of an MNIST image's pixels are exactly 0, so ``x @ W`` for one
image needs only the rows of ``W`` at its nonzero pixels. Written as Numba
loops, that product keeps its running sums in memory, and the loop over
the nonzero pixels is branchy. These two intrinsics emit the loops
directly:

* :func:`nonzero_index` writes the positions of a row's nonzero entries
  (NaN included) without a branch: eight entries per step, a 256-row table
  gives the positions for each pattern of nonzeros.
* :func:`gather_rows` adds ``x[i] * W[i, :]`` over those positions, its
  running sums held in vector registers: panels of four vectors (64
  float32 or 32 float64 columns), then the columns left in one more pass
  (whole vectors, then one narrower vector or two overlapping ones).

Both work for any width and either float dtype and refuse, when typed, any
array they would misread. The caller checks the shapes, and that ``W`` is
finite: a zero pixel skipped is ``0 * W[i, j]`` left out, which is only
``0`` for a finite ``W[i, j]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["gather_rows", "nonzero_index"]

#: Bytes in one vector of running sums (AVX-512's width; LLVM splits it on narrower CPUs).
VECTOR_BYTES = 64
#: Vectors of running sums per pass over the nonzero positions.
PANEL = 4
#: Entries tested per step of :func:`nonzero_index`.
GROUP = 8
#: :func:`nonzero_index` may write this many slots past the last position it returns.
INDEX_SLACK = GROUP

_I1 = ir.IntType(1)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


def _positions_table() -> list[list[int]]:
    """Row ``m``: the positions of the set bits of ``m`` (0-7), then zeros."""
    return [
        [b for b in range(GROUP) if m >> b & 1] + [0] * (GROUP - m.bit_count()) for m in range(256)
    ]


def _c_float(*arrays: Any) -> bool:
    return all(
        isinstance(a, types.Array) and a.layout == "C" and a.dtype in (types.float32, types.float64)
        for a in arrays
    )


def _index_array(idx: Any) -> bool:
    return (
        isinstance(idx, types.Array)
        and idx.layout == "C"
        and idx.ndim == 1
        and idx.dtype == types.int32
        and idx.mutable
    )


def _splat(builder: ir.IRBuilder, value: Any, vt: ir.VectorType) -> Any:
    first = builder.insert_element(ir.Constant(vt, ir.Undefined), value, ir.Constant(_I32, 0))
    mask = ir.Constant(ir.VectorType(_I32, vt.count), [0] * vt.count)
    return builder.shuffle_vector(first, ir.Constant(vt, ir.Undefined), mask)


def _intrinsic_fn(builder: ir.IRBuilder, name: str, ret: ir.Type, args: list[ir.Type]) -> Any:
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(ret, args), name)


def _nonzero_index(typingctx: Any, x: Any, idx: Any) -> Any:
    """``idx[:k]`` = the positions ``i`` with ``x[i] != 0`` (NaN included); returns ``k``.

    ``idx`` (int32) must hold ``x.shape[0] + INDEX_SLACK`` entries: each step
    stores eight positions and keeps as many as were nonzero. -0.0 counts as
    zero.
    """
    if not (_c_float(x) and x.ndim == 1 and _index_array(idx)):
        msg = f"nonzero_index takes a C-contiguous 1-D float array and an int32 one, got {x}, {idx}"
        raise TypingError(msg)

    def codegen(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> Any:
        xa = context.make_array(sig.args[0])(context, builder, args[0])
        ia = context.make_array(sig.args[1])(context, builder, args[1])
        ft = context.get_value_type(sig.args[0].dtype)
        size = context.get_abi_sizeof(ft)
        vt = ir.VectorType(ft, GROUP)
        ivt = ir.VectorType(_I32, GROUP)
        table_ty = ir.ArrayType(ivt, 256)
        table = builder.module.globals.get("dlcore_nonzero_positions")
        if table is None:
            table = ir.GlobalVariable(builder.module, table_ty, "dlcore_nonzero_positions")
            table.linkage = "internal"
            table.global_constant = True
            table.initializer = ir.Constant(
                table_ty, [ir.Constant(ivt, row) for row in _positions_table()]
            )
        ctpop = _intrinsic_fn(builder, "llvm.ctpop.i32", _I32, [_I32])
        d = builder.extract_value(xa.shape, 0)
        count = cgutils.alloca_once_value(builder, ir.Constant(_I64, 0))
        groups = builder.udiv(d, ir.Constant(_I64, GROUP))
        with cgutils.for_range(builder, groups) as loop:
            base = builder.mul(loop.index, ir.Constant(_I64, GROUP))
            ptr = builder.bitcast(builder.gep(xa.data, [base]), vt.as_pointer())
            nonzero = builder.fcmp_unordered(
                "!=", builder.load(ptr, align=size), ir.Constant(vt, None)
            )
            bits = builder.zext(builder.bitcast(nonzero, ir.IntType(GROUP)), _I32)
            positions = builder.load(builder.gep(table, [ir.Constant(_I32, 0), bits]), align=4)
            k = builder.load(count)
            dst = builder.bitcast(builder.gep(ia.data, [k]), ivt.as_pointer())
            builder.store(
                builder.add(positions, _splat(builder, builder.trunc(base, _I32), ivt)),
                dst,
                align=4,
            )
            builder.store(builder.add(k, builder.zext(builder.call(ctpop, [bits]), _I64)), count)
        start = builder.mul(groups, ir.Constant(_I64, GROUP))
        with cgutils.for_range_slice(builder, start, d, ir.Constant(_I64, 1), inc=True) as (i, _):
            k = builder.load(count)
            builder.store(builder.trunc(i, _I32), builder.gep(ia.data, [k]))
            value = builder.load(builder.gep(xa.data, [i]))
            nonzero = builder.fcmp_unordered("!=", value, ir.Constant(ft, 0.0))
            builder.store(builder.add(k, builder.zext(nonzero, _I64)), count)
        return builder.load(count)

    return types.intp(x, idx), codegen


#: ``k = nonzero_index(x, idx)`` in compiled code (see :func:`_nonzero_index`).
nonzero_index: Any = intrinsic(_nonzero_index)


def _panel(
    builder: ir.IRBuilder,
    vector: dict[int, ir.Type],
    load: Callable[[Any, Any], Any],
    fmuladd: Callable[[int, Any, Any, Any, Any], Any],
    lanes: list[int],
    offsets: list[Any],
    k: Any,
    col: Any,
    store: Callable[[Any, Any, Any], None],
) -> None:
    """One pass over the ``k`` positions: ``lanes[b]`` sums from column ``col + offsets[b]``.

    Two sets of sums (even and odd positions) halve the chain of dependent
    multiply-adds; they are added at the end. ``vector[n]`` is the type of
    ``n`` lanes, ``offsets`` are i64 values, ``load(q, col)`` gives the
    position's value and row pointer, ``fmuladd`` adds a product and
    ``store`` writes a sum. Vectors may overlap: a column in two of them
    gets the same sum in both (the same operations in the same order).
    """
    sets = []
    for _ in range(2):
        slots = []
        for n in lanes:
            slot = cgutils.alloca_once(builder, vector[n])
            builder.store(ir.Constant(vector[n], None), slot)
            slots.append(slot)
        sets.append(slots)

    def add(q: Any, slots: list[Any]) -> None:
        value, row = load(q, col)
        for n, offset, slot in zip(lanes, offsets, slots, strict=True):
            builder.store(fmuladd(n, value, row, offset, builder.load(slot)), slot)

    pairs = builder.udiv(k, ir.Constant(_I64, 2))
    with cgutils.for_range(builder, pairs) as loop:
        q = builder.mul(loop.index, ir.Constant(_I64, 2))
        add(q, sets[0])
        add(builder.add(q, ir.Constant(_I64, 1)), sets[1])
    odd = builder.icmp_unsigned("!=", builder.mul(pairs, ir.Constant(_I64, 2)), k)
    with builder.if_then(odd):
        add(builder.sub(k, ir.Constant(_I64, 1)), sets[0])
    for offset, even, odd_slot in zip(offsets, sets[0], sets[1], strict=True):
        store(builder.fadd(builder.load(even), builder.load(odd_slot)), offset, col)


def _gather_rows(typingctx: Any, x: Any, idx: Any, k: Any, W: Any, out: Any) -> Any:
    """``out[:] = sum over q < k of x[idx[q]] * W[idx[q], :]`` (``out``: ``W.shape[1]`` floats).

    The caller guarantees ``0 <= idx[q] < W.shape[0] == x.shape[0]``,
    ``k <= idx.shape[0]`` and ``out.shape[0] == W.shape[1]`` (checked
    there, not here); the dtypes and layouts are checked when typed.
    """
    if not (
        _c_float(x, W, out)
        and x.ndim == 1
        and W.ndim == 2
        and out.ndim == 1
        and x.dtype == W.dtype == out.dtype
        and out.mutable
        and _index_array(idx)
        and isinstance(k, types.Integer)
    ):
        msg = f"gather_rows takes C-contiguous float arrays of one dtype, got {x}, {W}, {out}"
        raise TypingError(msg)

    def codegen(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> Any:
        xa = context.make_array(sig.args[0])(context, builder, args[0])
        ia = context.make_array(sig.args[1])(context, builder, args[1])
        count = context.cast(builder, args[2], sig.args[2], types.intp)
        wa = context.make_array(sig.args[3])(context, builder, args[3])
        oa = context.make_array(sig.args[4])(context, builder, args[4])
        ft = context.get_value_type(sig.args[0].dtype)
        size = context.get_abi_sizeof(ft)
        width = VECTOR_BYTES // size
        m = builder.extract_value(wa.shape, 1)
        suffix = "f32" if size == 4 else "f64"
        vector = {
            n: (ir.VectorType(ft, n) if n > 1 else ft) for n in (width >> s for s in range(8)) if n
        }
        fns = {
            n: _intrinsic_fn(
                builder, f"llvm.fmuladd.{f'v{n}' if n > 1 else ''}{suffix}", t, [t] * 3
            )
            for n, t in vector.items()
        }

        def load(q: Any, col: Any) -> tuple[Any, Any]:
            i = builder.sext(builder.load(builder.gep(ia.data, [q])), _I64)
            value = builder.load(builder.gep(xa.data, [i]))
            return value, builder.gep(wa.data, [builder.add(builder.mul(i, m), col)])

        def fmuladd(n: int, value: Any, row: Any, offset: Any, acc: Any) -> Any:
            ptr = builder.gep(row, [offset])
            if n == 1:
                return builder.call(fns[1], [value, builder.load(ptr), acc])
            w = builder.load(builder.bitcast(ptr, vector[n].as_pointer()), align=size)
            return builder.call(fns[n], [_splat(builder, value, vector[n]), w, acc])

        def store(total: Any, offset: Any, col: Any) -> None:
            ptr = builder.gep(oa.data, [builder.add(col, offset)])
            if isinstance(total.type, ir.VectorType):
                builder.store(total, builder.bitcast(ptr, total.type.as_pointer()), align=size)
            else:
                builder.store(total, ptr)

        col = cgutils.alloca_once_value(builder, ir.Constant(_I64, 0))

        def remaining() -> Any:
            return builder.sub(m, builder.load(col))

        def const(v: int) -> Any:
            return ir.Constant(_I64, v)

        def step(lanes: list[int], last: Any = None) -> None:
            # vectors side by side; ``last`` (i64) moves the last one back to end at the width
            offsets = [const(sum(lanes[:b])) for b in range(len(lanes))]
            if last is not None:
                offsets[-1] = last
            _panel(builder, vector, load, fmuladd, lanes, offsets, count, builder.load(col), store)

        # full panels while they fit, then the r < PANEL * width columns left in one pass:
        # r // width vectors and, for the t = r % width columns after them, one vector of the
        # widest n <= t lanes, or two whose second ends at the width (overlapping the first:
        # a column in both gets the same sum), instead of a pass per narrower part
        full = PANEL * width
        head = builder.append_basic_block("panels.head")
        body = builder.append_basic_block("panels.body")
        tail = builder.append_basic_block("panels.tail")
        builder.branch(head)
        builder.position_at_end(head)
        builder.cbranch(builder.icmp_signed(">=", remaining(), const(full)), body, tail)
        builder.position_at_end(body)
        step([width] * PANEL)
        builder.store(builder.add(builder.load(col), const(full)), col)
        builder.branch(head)
        builder.position_at_end(tail)
        r = remaining()
        vectors = builder.udiv(r, const(width))
        t = builder.urem(r, const(width))

        def cmp(op: str, value: Any, c: int) -> Any:
            return builder.icmp_signed(op, value, const(c))

        for a in range(PANEL):
            same = cmp("==", vectors, a)
            if a:
                with builder.if_then(builder.and_(same, cmp("==", t, 0))):
                    step([width] * a)
            n = width // 2
            while n >= 1:
                with builder.if_then(builder.and_(same, cmp("==", t, n))):
                    step([width] * a + [n])
                if n > 1:
                    pair = builder.and_(cmp(">", t, n), cmp("<", t, 2 * n))
                    with builder.if_then(builder.and_(same, pair)):
                        step([width] * a + [n, n], builder.sub(r, const(n)))
                n //= 2
        return context.get_dummy_value()

    return types.void(x, idx, k, W, out), codegen


#: ``gather_rows(x, idx, k, W, out)`` in compiled code (see :func:`_gather_rows`).
gather_rows: Any = intrinsic(_gather_rows)
