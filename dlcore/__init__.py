"""dlcore: the "Deep Learning from Scratch" core on any Array-API backend.

Maths functions take the array namespace from their inputs; the active
backend (``DLCORE_BACKEND=numpy|numba|cupy|array_api_strict|...``) decides
where new arrays are created and which compiled kernels run the hot loops.
``import dlcore`` imports neither Numba nor CuPy; they load when their backend
is first used.
"""

from __future__ import annotations

from . import optimizers
from .activation_layers import ELU, SELU, LeakyReLU, PReLU, Tanh
from .activations import (
    identity_function,
    identity_function_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    softmax,
    softmax_jacobian,
    step_function,
    step_function_grad,
)
from .activations_modern import (
    elu,
    elu_grad,
    leaky_relu,
    leaky_relu_grad,
    prelu,
    prelu_grad,
    selu,
    selu_grad,
    tanh,
    tanh_grad,
)
from .backends import (
    Backend,
    BackendDeviceError,
    BackendError,
    BackendNotInstalledError,
    NumbaFallbackWarning,
    asarray,
    available_backends,
    get_backend,
    register_backend,
    set_backend,
    to_numpy,
    use_backend,
)
from .bench import run_bench
from .book_network import load_book_network
from .data import fetch_mnist, load_mnist, load_mnist_test
from .digits import load_digits, mnist_like
from .gradcheck import gradient_check
from .gradient import gradient_descent, numerical_diff, numerical_gradient
from .inference import predict_batches, predict_dask
from .io import UnsafePickleError, load_weights, save_weights
from .layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from .losses import (
    cross_entropy_error,
    mean_squared_error,
    softmax_loss,
    sum_squared_error,
)
from .nets import MultiLayerNet, TwoLayerNet
from .network import forward, init_network, load_sample_network
from .numgrad import mlp_loss, mlp_numerical_gradient
from .perceptron import AND, NAND, OR, XOR, Perceptron
from .predictor import Predictor, predict
from .stores import save_images
from .training import plot_history, train

__version__ = "0.1.0"

__all__ = [
    "AND",
    "ELU",
    "NAND",
    "OR",
    "SELU",
    "XOR",
    "AddLayer",
    "Affine",
    "Backend",
    "BackendDeviceError",
    "BackendError",
    "BackendNotInstalledError",
    "LeakyReLU",
    "MulLayer",
    "MultiLayerNet",
    "NumbaFallbackWarning",
    "PReLU",
    "Perceptron",
    "Predictor",
    "Relu",
    "Sigmoid",
    "SoftmaxWithLoss",
    "Tanh",
    "TwoLayerNet",
    "UnsafePickleError",
    "__version__",
    "asarray",
    "available_backends",
    "cross_entropy_error",
    "elu",
    "elu_grad",
    "fetch_mnist",
    "forward",
    "get_backend",
    "gradient_check",
    "gradient_descent",
    "identity_function",
    "identity_function_grad",
    "init_network",
    "leaky_relu",
    "leaky_relu_grad",
    "load_book_network",
    "load_digits",
    "load_mnist",
    "load_mnist_test",
    "load_sample_network",
    "load_weights",
    "mean_squared_error",
    "mlp_loss",
    "mlp_numerical_gradient",
    "mnist_like",
    "numerical_diff",
    "numerical_gradient",
    "optimizers",
    "plot_history",
    "predict",
    "predict_batches",
    "predict_dask",
    "prelu",
    "prelu_grad",
    "register_backend",
    "relu",
    "relu_grad",
    "run_bench",
    "save_images",
    "save_weights",
    "selu",
    "selu_grad",
    "set_backend",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "softmax_loss",
    "step_function",
    "step_function_grad",
    "sum_squared_error",
    "tanh",
    "tanh_grad",
    "to_numpy",
    "train",
    "use_backend",
]
