"""Forward/backward pairs for every layer, in torch's layouts (NCHW, weight (out, in)).

Each ``*_forward(...)`` returns ``(out, cache)`` and each ``*_backward(dout, cache)``
returns the gradients of the forward's array inputs, in order. The code is split
by topic so that each file reads in one sitting:

- :mod:`.linear`: linear, embedding
- :mod:`.activations`: sign, relu, leaky_relu, prelu, elu, gelu, sigmoid, tanh,
  softplus, maxout, identity; ``ACTIVATIONS``, the one registry of activation
  names (name -> forward, backward, init gain, kind)
- :mod:`.conv`: conv1d, conv2d, conv_transpose2d (im2col, no loop over pixels)
- :mod:`.pool`: maxpool2d, avgpool2d, max_unpool2d
- :mod:`.norm`: batchnorm, layernorm, groupnorm, instancenorm
- :mod:`.recurrent`: rnn, lstm, gru (one step and a whole sequence)
- :mod:`.regularization`: dropout, clip_grad_norm, clip_grad_value
"""
# ruff: noqa: F401  (this module only re-exports)

from .activations import (
    ACTIVATIONS,
    Activation,
    activation_gain,
    activation_names,
    elu_backward,
    elu_forward,
    gelu_backward,
    gelu_forward,
    get_activation,
    identity_backward,
    identity_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    maxout_backward,
    maxout_forward,
    prelu_backward,
    prelu_forward,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    sign_forward,
    softplus_backward,
    softplus_forward,
    tanh_backward,
    tanh_forward,
)
from .conv import (
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)
from .linear import embedding_backward, embedding_forward, linear_backward, linear_forward
from .norm import (
    batchnorm_backward,
    batchnorm_forward,
    groupnorm_backward,
    groupnorm_forward,
    instancenorm_backward,
    instancenorm_forward,
    layernorm_backward,
    layernorm_forward,
)
from .pool import (
    avgpool2d_backward,
    avgpool2d_forward,
    max_unpool2d,
    max_unpool2d_backward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .recurrent import (
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)
from .regularization import clip_grad_norm, clip_grad_value, dropout_backward, dropout_forward

__all__ = [name for name in dir() if not name.startswith("_")]
