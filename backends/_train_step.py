"""One training step (the body of :func:`dlcore.train`'s loop): what a backend may fuse.

:meth:`~dlcore.backends.Backend.bind_train_step` binds a step to a network,
an optimizer and a training set; :func:`generic_step` is its generic body,
the book's ``train_neuralnet.py`` iteration through the network's own
methods. :class:`SGDTraining` says when the step is the plain case a
backend may compile into one kernel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["SGDTraining", "TrainStepFn", "generic_step"]

#: What :meth:`Backend.bind_train_step` returns: ``step(rows) -> loss`` (the batch
#: ``x[rows]``; ``rows`` a host NumPy integer array; the loss a 0-d array or a float).
TrainStepFn = Callable[[np.ndarray], Any]


@dataclass(frozen=True)
class SGDTraining:
    """A network whose step a backend may fuse: a plain MLP trained by plain SGD.

    :func:`dlcore.train` passes one when the network's ``gradient`` and
    ``loss`` are those of :class:`dlcore.MultiLayerNet` (``params`` exactly
    the arrays of :attr:`keys`, no PReLU slopes, no weight decay) and the
    optimizer is :class:`dlcore.optimizers.SGD`: the step is then
    ``W -= lr * dW`` for the backprop gradient of
    ``cross_entropy_error(softmax(MLP(x)), t)``, and the loss of the batch
    after the update.

    Attributes
    ----------
    keys : tuple of str
        ``("W1", "b1", ..., "Wn", "bn")``, the parameters in layer order.
    activation : str
        The hidden-layer activation (a name of :data:`dlcore.network.ACTIVATIONS`).
    lr : float
        The learning rate.
    """

    keys: tuple[str, ...]
    activation: str
    lr: float


def generic_step(network: Any, optimizer: Any, x: Any, t: Any) -> TrainStepFn:
    """The step through ``network.gradient``, ``optimizer.update`` and ``network.loss``."""
    from array_api_compat import array_namespace, device

    xp, where = array_namespace(x), device(x)

    def step(rows: np.ndarray) -> Any:
        batch_mask = xp.asarray(rows, device=where)
        x_batch = xp.take(x, batch_mask, axis=0)
        t_batch = xp.take(t, batch_mask, axis=0)
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        return network.loss(x_batch, t_batch)

    return step
