"""dlcore: the "Deep Learning from Scratch" core on any Array-API backend.

Maths functions take the array namespace from their inputs; the active
backend (``DLCORE_BACKEND=numpy|numba|cupy|array_api_strict|...``) decides
where new arrays are created and which compiled kernels run the hot loops.
``import dlcore`` imports neither Numba nor CuPy; they load when their backend
is first used.
"""

from __future__ import annotations

from ._safe_pickle import UnsafePickleError
from .activations import (
    elu,
    elu_grad,
    identity_function,
    identity_function_grad,
    leaky_relu,
    leaky_relu_grad,
    prelu,
    prelu_grad,
    relu,
    relu_grad,
    selu,
    selu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    step_function,
    step_function_grad,
    tanh,
    tanh_grad,
)
from .backends import (
    Backend,
    BackendDeviceError,
    BackendError,
    BackendNotInstalledError,
    asarray,
    available_backends,
    get_backend,
    register_backend,
    set_backend,
    to_numpy,
    use_backend,
)
from .backends._numba_numgrad import NumbaFallbackWarning
from .gradient import gradient_descent, numerical_diff, numerical_gradient
from .losses import (
    cross_entropy_error,
    mean_squared_error,
    softmax_loss,
    sum_squared_error,
)
from .mlp_gradient import mlp_loss, mlp_numerical_gradient
from .mnist import fetch_mnist, load_mnist, load_mnist_test
from .perceptron import AND, NAND, OR, XOR, Perceptron

__version__ = "0.1.0"

__all__ = [
    "AND",
    "NAND",
    "OR",
    "XOR",
    "Backend",
    "BackendDeviceError",
    "BackendError",
    "BackendNotInstalledError",
    "NumbaFallbackWarning",
    "Perceptron",
    "UnsafePickleError",
    "__version__",
    "asarray",
    "available_backends",
    "cross_entropy_error",
    "elu",
    "elu_grad",
    "fetch_mnist",
    "get_backend",
    "gradient_descent",
    "identity_function",
    "identity_function_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "load_mnist",
    "load_mnist_test",
    "mean_squared_error",
    "mlp_loss",
    "mlp_numerical_gradient",
    "numerical_diff",
    "numerical_gradient",
    "prelu",
    "prelu_grad",
    "register_backend",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "set_backend",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_loss",
    "step_function",
    "step_function_grad",
    "sum_squared_error",
    "tanh",
    "tanh_grad",
    "to_numpy",
    "use_backend",
]
