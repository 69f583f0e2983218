"""NumPy arrays with Numba-compiled kernels for the hot loops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import BackendNotInstalledError, PredictFn, StaleArraysError, array_layouts
from ._train_step import SGDTraining, TrainStepFn
from .numpy_backend import NumpyBackend


class NumbaBackend(NumpyBackend):
    """NumPy arrays on the CPU; Numba kernels replace the hot loops.

    Each method runs its compiled kernel for the inputs it handles (NumPy
    arrays of float32/float64; for :meth:`numerical_gradient`, a
    ``numba.njit`` ``f``) and hands everything else to :class:`NumpyBackend`.
    Numba is imported the first time this backend is used, never by
    ``import dlcore``.
    """

    name = "numba"
    install_hint = 'pip install "dlcore[numba]"'
    description = "NumPy arrays + Numba-jitted kernels (CPU)"

    def _load(self) -> Any:
        try:
            import numba  # noqa: F401
        except ImportError as exc:
            msg = (
                f"backend {self.name!r} needs the numba package, which could not be imported "
                f"({exc}); install it with: {self.install_hint}"
            )
            raise BackendNotInstalledError(msg) from exc
        return super()._load()

    def versions(self) -> dict[str, str]:
        import numba

        return {**super().versions(), "numba": numba.__version__}

    def bind_predict(self, arrays: Sequence[Any], *, activation: str = "sigmoid") -> PredictFn:
        """One compiled call per image; batches: BLAS's products, compiled bias and activation."""
        from . import _numba_predict

        run = _numba_predict.bind(arrays, activation)
        return super().bind_predict(arrays, activation=activation) if run is None else run

    def mlp_gradient(
        self, arrays: Sequence[Any], x: Any, t: Any, *, activation: str = "sigmoid"
    ) -> list[Any]:
        """BLAS's products with compiled bias, activation and backward passes (sigmoid/ReLU)."""
        from . import _numba_train

        if type(x) is np.ndarray and x.ndim == 2 and x.shape[0]:
            grads = _numba_train.mlp_gradient(arrays, x, t, activation)
            if grads is not None:
                return grads
        return super().mlp_gradient(arrays, x, t, activation=activation)

    def bind_train_step(
        self, network: Any, optimizer: Any, x: Any, t: Any, *, sgd: SGDTraining | None = None
    ) -> TrainStepFn:
        """The SGD step of a sigmoid/ReLU MLP on a NumPy training set, gradients allocated once.

        The step gathers the batch rows from ``x``, computes the gradient into
        arrays allocated once, updates the parameters in place and returns
        the loss after the update. The parameters are first replaced by
        copies (as the generic SGD step rebinds them to new arrays), so arrays
        the caller still holds are never changed. Other networks and
        optimizers take the generic step.
        """
        from . import _numba_sgd

        generic = super().bind_train_step(network, optimizer, x, t, sgd=sgd)
        if sgd is None:
            return generic
        arrays = [network.params[k] for k in sgd.keys]
        if not _numba_sgd.takes(arrays, x, t, sgd.activation) or x.shape[0] == 0:
            return generic
        arrays = [a.copy() for a in arrays]
        network.params.update(zip(sgd.keys, arrays, strict=True))
        run = _numba_sgd.bind(arrays, x, t, sgd.lr, sgd.activation)
        pairs = tuple(zip(sgd.keys, arrays, strict=True))
        layouts = array_layouts(arrays)

        def step(rows: np.ndarray) -> float:
            params = network.params
            for key, a in pairs:
                if params.get(key) is not a:
                    msg = (
                        f"network.params[{key!r}] was replaced since the training step was "
                        "bound; bind it again (dlcore.train binds one per call)"
                    )
                    raise StaleArraysError(msg)
            if array_layouts(arrays) != layouts:
                msg = "the network's arrays changed shape or dtype since the step was bound"
                raise StaleArraysError(msg)
            return run(rows)

        return step

    def numerical_gradient(self, f: Callable[[Any], Any], x: Any, h: float) -> Any:
        """The compiled parallel loop for a ``numba.njit`` ``f`` and a NumPy ``x``."""
        from . import _numba_numgrad as kernels

        if type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.size and x.ndim:
            if kernels.is_numba_function(f):
                grad = kernels.numerical_gradient(f, x, h)
                if grad is not None:
                    return grad
            else:
                kernels.warn_python_f(f, x.size)
        return super().numerical_gradient(f, x, h)

    def mlp_numerical_gradient(
        self,
        arrays: Sequence[Any],
        x: Any,
        t: Any,
        *,
        h: float,
        activation: str,
        max_bytes: int,
    ) -> list[Any]:
        """The compiled network kernel for NumPy arrays and sigmoid/ReLU hidden layers."""
        from . import _numba_numgrad as kernels

        if activation in kernels.ACTIVATIONS and all(
            type(a) is np.ndarray for a in (x, t, *arrays)
        ):
            return kernels.mlp_numerical_gradient(arrays, x, t, h, activation)
        return super().mlp_numerical_gradient(
            arrays, x, t, h=h, activation=activation, max_bytes=max_bytes
        )


class NumbaParallelBackend(NumbaBackend):
    """:class:`NumbaBackend` whose sparse batches run over Numba's threads.

    A C-contiguous batch of finite-weight sigmoid/ReLU networks whose
    sampled rows are at most 30 % nonzero (MNIST: 19 %) goes through the
    zero-skipping row-wise pass, one block of rows per thread (Numba's
    ``prange``; :func:`dlcore.backends._numba_rows.forward_rows`); every
    other input takes :class:`NumbaBackend`'s kernels, and so does training.

    Numba's threads and OpenBLAS's share the cores: right after NumPy's own
    matrix products (OpenBLAS's threads spin for a while after each) these
    batches can be several times slower, and a NumPy product right after
    them slower too. Use it where inference runs on its own (a serving
    loop, ``predict_batches``); ``numba.set_num_threads(1)`` or
    ``NUMBA_NUM_THREADS=1`` makes it one thread. Where Numba's threading
    layer is ``workqueue`` (no OpenMP or TBB runtime: it aborts on
    launches from two Python threads), and in a process forked after its
    first launch (GNU OpenMP aborts there), the batches run on one thread.
    """

    name = "numba_parallel"
    description = "NumPy arrays + Numba kernels, sparse batches over Numba's threads (CPU)"

    def bind_predict(self, arrays: Sequence[Any], *, activation: str = "sigmoid") -> PredictFn:
        """As :class:`NumbaBackend`, sparse batches split over Numba's threads."""
        from . import _numba_predict

        run = _numba_predict.bind(arrays, activation, parallel=True)
        return super().bind_predict(arrays, activation=activation) if run is None else run

    def versions(self) -> dict[str, str]:
        from . import _numba_rows

        return {**super().versions(), "numba threads": str(_numba_rows.thread_count())}
