"""The peers dlcore is measured against: the book's NumPy code and PyTorch.

* ``"book"``: :func:`dlcore.bench.book.predict`, the book's ch. 3 code as
  written (three layers only);
* ``"pytorch"``: ``torch.nn.Sequential`` (Linear + Sigmoid layers, Softmax
  output) with the same weights, called under ``torch.inference_mode``;
  skipped with the reason when PyTorch is not installed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from typing import Any

import numpy as np

from . import book
from .runners import Runner, host_labels

__all__ = ["PEERS", "book_runner", "check_peer", "peer_status", "torch_model", "torch_runner"]

#: Peers measured beside the dlcore backends: the book's NumPy code and PyTorch.
PEERS = ("book", "pytorch")
#: The network keys the book's ``predict`` reads.
_BOOK_KEYS = ["W1", "W2", "W3", "b1", "b2", "b3"]


def peer_status() -> dict[str, tuple[bool, str]]:
    """The peers with ``(available, reason it is not)``.

    Examples
    --------
    >>> from dlcore.bench import peer_status
    >>> peer_status()["book"]
    (True, '')
    """
    torch_ok = importlib.util.find_spec("torch") is not None
    why = "" if torch_ok else "PyTorch is not installed (pip install torch to compare with it)"
    return {"book": (True, ""), "pytorch": (torch_ok, why)}


def check_peer(name: str) -> str:
    """Return peer ``name`` normalised, or raise ``ValueError`` naming the valid peers.

    Examples
    --------
    >>> from dlcore.bench import check_peer
    >>> check_peer("Book")
    'book'
    """
    key = name.strip().lower()
    if key not in PEERS:
        msg = f"unknown peer {name!r}; valid peers are: {', '.join(PEERS)}"
        raise ValueError(msg)
    return key


def book_skip_reason(network: Mapping[str, Any]) -> str:
    """Why the book's ``predict`` cannot run ``network`` ("" when it can)."""
    if sorted(network) != _BOOK_KEYS:
        return "the book's predict is written for three layers (W1..W3, b1..b3)"
    return ""


def book_runner(network: Mapping[str, np.ndarray], x: np.ndarray) -> Runner:
    """The book's ``predict`` on NumPy arrays, a peer.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import book_runner
    >>> net = {f"{p}{i}": np.eye(2) if p == "W" else np.zeros(2) for i in (1, 2, 3) for p in "Wb"}
    >>> book_runner(net, np.ones((4, 2))).name
    'book'
    """
    net = dict(network)

    def predict(xb: Any) -> Any:
        return book.predict(net, xb)

    return Runner(
        name="book",
        kind="peer",
        device="cpu",
        predict=predict,
        x=x,
        sync=lambda y: None,
        labels_of=host_labels(np.asarray),
        context=nullcontext,
        versions={"numpy": np.__version__},
    )


def torch_model(network: Mapping[str, np.ndarray]) -> Any:
    """A ``torch.nn.Sequential`` with the same weights: Linear + Sigmoid layers, Softmax output.

    ``nn.Linear`` stores ``W.T`` (outputs x inputs), so each ``W`` is
    transposed on the way in.

    Raises
    ------
    ImportError
        PyTorch is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import torch_model
    >>> model = torch_model({"W1": np.eye(2, 3), "b1": np.zeros(3)})  # doctest: +SKIP
    >>> model[0].weight.shape  # doctest: +SKIP
    torch.Size([3, 2])
    """
    import torch

    n = len(network) // 2
    layers: list[Any] = []
    for i in range(1, n + 1):
        w = np.asarray(network[f"W{i}"])
        lin = torch.nn.Linear(w.shape[0], w.shape[1], dtype=torch.from_numpy(w).dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
            lin.bias.copy_(torch.from_numpy(np.asarray(network[f"b{i}"])))
        layers += [lin, torch.nn.Sigmoid() if i < n else torch.nn.Softmax(dim=-1)]
    return torch.nn.Sequential(*layers).eval()


def torch_runner(network: Mapping[str, np.ndarray], x: np.ndarray) -> Runner:
    """PyTorch's ``nn.Sequential`` (:func:`torch_model`) under ``torch.inference_mode``, a peer.

    Examples
    --------
    >>> import numpy as np
    >>> from dlcore.bench import torch_runner
    >>> torch_runner({"W1": np.eye(2), "b1": np.zeros(2)}, np.ones((3, 2))).name  # doctest: +SKIP
    'pytorch'
    """
    import torch

    return Runner(
        name="pytorch",
        kind="peer",
        device="cpu",
        predict=torch_model(network),
        x=torch.from_numpy(x),
        sync=lambda y: None,
        labels_of=host_labels(lambda y: y.numpy()),
        context=torch.inference_mode,
        versions={"torch": torch.__version__},
    )


#: How each peer is built, by name.
PEER_RUNNERS: dict[str, Callable[[Mapping[str, np.ndarray], np.ndarray], Runner]] = {
    "book": book_runner,
    "pytorch": torch_runner,
}
