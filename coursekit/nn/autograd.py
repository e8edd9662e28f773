"""A tiny reverse-mode autograd engine over NumPy arrays (micrograd, with arrays).

Every operation creates a new :class:`Tensor` that remembers its inputs and a
``_backward`` closure applying the chain rule locally: given the gradient of the
output, add each input's share to ``input.grad``. ``backward()`` visits the graph
in reverse topological order so every node's gradient is complete before it is
passed on. Broadcasting is supported: a gradient is summed over the axes an input
was broadcast along. :func:`coursekit.viz.graph.draw_graph` draws the graph with values and
gradients.

Example::

    x, y, z = Tensor(-2.0, label="x"), Tensor(5.0, label="y"), Tensor(-4.0, label="z")
    f = (x + y) * z
    f.backward()        # x.grad == -4, y.grad == -4, z.grad == 3
"""

import numpy as np

from . import init


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array (float64) with a gradient and a record of how it was computed.

    data: the value (``np.ndarray``); grad: d(output)/d(this), same shape, filled by
    :meth:`backward`. label: a name shown by :func:`coursekit.viz.graph.draw_graph`.
    """

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    # -- bookkeeping ---------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    def item(self):
        return self.data.item()

    def __repr__(self):
        if self.data.size == 1:
            return f"Tensor({self.data.item():.6g}, grad={self.grad.item():.6g})"
        return f"Tensor(shape={self.data.shape})"

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Tensor) else Tensor(other)

    # -- arithmetic (each op defines its local chain rule) -----------------------
    def __add__(self, other):
        other = self._wrap(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():  # the add gate distributes the gradient unchanged
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self._wrap(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():  # the multiply gate swaps its inputs
            self.grad += _unbroadcast(out.grad * other.data, self.shape)
            other.grad += _unbroadcast(out.grad * self.data, other.shape)
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"exponent must be an int or float constant, got "
                            f"{type(exponent).__name__}")
        out = Tensor(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward():
            self.grad += out.grad * exponent * self.data ** (exponent - 1)
        out._backward = _backward
        return out

    def __matmul__(self, other):
        other = self._wrap(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError(f"a @ b needs tensors with at least 1 dimension, got shapes "
                             f"{self.shape} and {other.shape}; use * for a scalar")
        inner_a, inner_b = self.shape[-1], other.shape[0] if other.ndim == 1 else other.shape[-2]
        if inner_a != inner_b:
            raise ValueError(
                "a @ b needs a's last dimension to equal b's "
                f"{'only' if other.ndim == 1 else 'second-to-last'} "
                f"dimension; got a shape {self.shape} ({inner_a}) and b shape {other.shape} "
                f"({inner_b})"
                + ("; did you mean a @ b.T?" if other.ndim >= 2 and other.shape[-1] == inner_a
                   else ""))
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():
            # Treat vectors as a row (left) / column (right) matrix, then undo it.
            a = self.data if self.ndim > 1 else self.data[None, :]
            b = other.data if other.ndim > 1 else other.data[:, None]
            g = out.grad.reshape(np.matmul(a, b).shape)
            da = _unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape)
            db = _unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape)
            self.grad += da.reshape(self.shape)
            other.grad += db.reshape(other.shape)
        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __truediv__(self, other):
        return self * self._wrap(other) ** -1.0

    def __radd__(self, other):
        return self + other

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __rmul__(self, other):
        return self * other

    def __rtruediv__(self, other):
        return self._wrap(other) / self

    def __rmatmul__(self, other):
        return self._wrap(other) @ self

    # -- elementwise functions ----------------------------------------------------
    def _unary(self, value, local_grad, op):
        out = Tensor(value, (self,), op)

        def _backward():
            self.grad += out.grad * local_grad(out.data)
        out._backward = _backward
        return out

    def exp(self):
        return self._unary(np.exp(self.data), lambda e: e, "exp")

    def log(self):
        x = self.data
        return self._unary(np.log(x), lambda _: 1.0 / x, "log")

    def relu(self):
        return self._unary(np.maximum(self.data, 0), lambda r: (r > 0).astype(float), "relu")

    def sigmoid(self):
        s = np.exp(-np.logaddexp(0.0, -self.data))
        return self._unary(s, lambda s: s * (1 - s), "sigmoid")

    def tanh(self):
        return self._unary(np.tanh(self.data), lambda t: 1 - t**2, "tanh")

    # -- reductions and shape -------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward():
            g = out.grad
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            self.grad += np.broadcast_to(g, self.shape)
        out._backward = _backward
        return out

    def mean(self, axis=None, keepdims=False):
        count = self.data.size if axis is None else np.prod(
            [self.shape[a] for a in np.atleast_1d(axis)])
        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)

    def reshape(self, *shape):
        out = Tensor(self.data.reshape(*shape), (self,), "reshape")

        def _backward():
            self.grad += out.grad.reshape(self.shape)
        out._backward = _backward
        return out

    @property
    def T(self):
        out = Tensor(self.data.T, (self,), "T")

        def _backward():
            self.grad += out.grad.T
        out._backward = _backward
        return out

    # -- backpropagation --------------------------------------------------------------
    def graph(self):
        """All tensors this one depends on (itself included), inputs before outputs."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first search: no recursion limit on deep graphs
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        return order

    def backward(self, grad=None):
        """Accumulate d(self)/d(node) into ``node.grad`` for every node of the graph.

        grad: the gradient to start from; may be omitted for a single-element tensor
        (then it is 1). Gradients add up across calls -- zero them between steps.
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without grad needs a single-element tensor, "
                                 f"got shape {self.shape}; pass grad of that shape")
            grad = np.ones_like(self.data)
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != self.shape:
            raise ValueError(f"grad must have shape {self.shape}, got {grad.shape}")
        self.grad = self.grad + grad
        for node in reversed(self.graph()):
            node._backward()


class Module:
    """Base class of layers: :meth:`parameters` finds every Tensor attribute
    (also inside lists of modules); :meth:`zero_grad` resets their gradients."""

    def parameters(self):
        params = []
        for value in vars(self).values():
            items = value if isinstance(value, (list, tuple)) else [value]
            for item in items:
                if isinstance(item, Tensor):
                    params.append(item)
                elif isinstance(item, Module):
                    params.extend(item.parameters())
        return params

    def zero_grad(self):
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        raise NotImplementedError


class Linear(Module):
    """``x @ weight.T + bias`` with torch's layout and default initialisation
    (weight and bias uniform in ±1/sqrt(in_features)).

    x: (N, in_features) Tensor or array -> (N, out_features) Tensor.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None):
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Tensor(init.uniform((out_features, in_features), bound, rng=rng),
                             label="weight")
        self.bias = Tensor(init.uniform((out_features,), bound, rng=rng), label="bias") \
            if bias else None

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x, label="x")
        if x.shape[-1] != self.weight.shape[1]:
            raise ValueError(f"x must have shape (N, {self.weight.shape[1]}), got {x.shape}")
        out = x @ self.weight.T
        return out if self.bias is None else out + self.bias


class MLP(Module):
    """Stack of Linear layers with an activation between them (none after the last).

    sizes: e.g. ``[2, 16, 16, 1]``; activation: "relu", "tanh" or "sigmoid".
    """

    def __init__(self, sizes, activation="relu", rng=None):
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least input and output sizes, got {sizes!r}")
        if activation not in ("relu", "tanh", "sigmoid"):
            raise ValueError(f"activation must be 'relu', 'tanh' or 'sigmoid', got {activation!r}")
        rng = np.random.default_rng(rng)
        self.layers = [Linear(a, b, rng=rng) for a, b in zip(sizes[:-1], sizes[1:])]
        self.activation = activation

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = getattr(x, self.activation)()
        return x


__all__ = ["Linear", "MLP", "Module", "Tensor"]
