"""ReceptiveField headless (every control changes the state and the picture) and the viz
functions under it (footprints against torch autograd, the receptive-field formula)."""

import numpy as np
import pytest
import torch

from coursekit.viz.conv import layer_stack, receptive_field, stack_output_sizes, unit_footprint
from coursekit.widgets import ReceptiveField
from coursekit.widgets.base import FigureWidget


@pytest.fixture(autouse=True)
def small_pictures(monkeypatch):
    monkeypatch.setattr(FigureWidget, "dpi", 30)


def torch_paths(layers, size, unit):
    """Gradient of one unit w.r.t. the input through all-ones kernels = number of paths."""
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    h = x
    for layer in layers:
        if layer["kind"] == "conv":
            k = layer["kernel_size"]
            h = torch.nn.functional.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64), stride=layer["stride"],
                                           padding=layer["padding"], dilation=layer["dilation"])
        else:
            h = torch.nn.functional.avg_pool2d(h, 2) * 4  # a sum pool: every window input has one path
    h[0, 0, unit[0], unit[1]].backward()
    return x.grad[0, 0].numpy()


@pytest.mark.parametrize("options, unit", [
    (dict(n_layers=2), (7, 3)),
    (dict(n_layers=3, stride=2), (1, 2)),
    (dict(n_layers=2, dilation=2, padding="valid"), (0, 5)),
    (dict(n_layers=3, kernel_size=5, pooling="after every 2nd layer"), (4, 4)),
    (dict(n_layers=2, pooling="after every layer", dilation=3), (3, 0)),
])
def test_footprint_equals_torch_gradient(options, unit):
    layers = layer_stack(**options)
    footprint = unit_footprint(layers, 24, unit)
    np.testing.assert_array_equal(footprint["counts"], torch_paths(layers, 24, unit))
    rows = np.flatnonzero(footprint["counts"].sum(1))
    assert footprint["rows"] == (rows[0], rows[-1]) and footprint["n_pixels"] == np.count_nonzero(footprint["counts"])


def test_two_3x3_see_5x5_and_stride_and_pooling_grow_the_field():
    inner = unit_footprint(layer_stack(2), 32, (16, 16))
    assert inner["size"] == 5 and inner["rows"] == (14, 18) and inner["n_pixels"] == 25
    assert unit_footprint(layer_stack(3), 32, (16, 16))["size"] == 7
    assert unit_footprint(layer_stack(2, stride=2), 32, (4, 4))["size"] == 7  # 1 + 2 + 2*2
    pooled = layer_stack(2, pooling="after every layer")
    assert [layer["kind"] for layer in pooled] == ["conv", "pool", "conv", "pool"]
    assert unit_footprint(pooled, 32, (4, 4))["size"] == receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)])[-1]["size"] == 10
    # dilation 2: a 3x3 kernel with holes, 9 of the 25 pixels of its 5x5 field
    dilated = unit_footprint(layer_stack(1, dilation=2), 32, (10, 10))
    assert dilated["size"] == 5 and dilated["n_pixels"] == 9


def test_corner_unit_is_clipped_by_padding_and_valid_stacks_shrink():
    corner = unit_footprint(layer_stack(2), 32, (0, 0))
    assert corner["rows"] == (0, 2) and corner["size"] == 5  # the rest of its field is zero padding
    assert stack_output_sizes(layer_stack(3, padding="valid"), 32) == [30, 28, 26]
    with pytest.raises(ValueError, match="leaves no output"):
        stack_output_sizes(layer_stack(6, kernel_size=7, padding="valid"), 32)
    with pytest.raises(ValueError, match="unit must lie"):
        unit_footprint(layer_stack(1), 8, (8, 0))
    with pytest.raises(ValueError, match="pooling must be one of"):
        layer_stack(2, pooling="sometimes")
    with pytest.raises(ValueError, match="kernel_size must be an integer"):
        layer_stack(2, kernel_size=0)


def _change(widget, control, value):
    before_png, before_state, count = widget.image.value, widget.state(), widget.redraw_count
    getattr(widget, control).value = value
    assert widget.redraw_count == count + 1, f"{control} did not redraw exactly once"
    return before_state, widget.state(), widget.image.value != before_png


@pytest.mark.parametrize("control, value, key", [
    ("n_layers", 3, "size"), ("kernel_size", 5, "size"), ("stride", 2, "output_sizes"),
    ("dilation", 2, "size"), ("pooling", "after every layer", "output_sizes"),
    ("padding", "valid", "output_sizes"), ("unit_row", 3, "rows"), ("unit_col", 20, "cols"),
])
def test_every_control_changes_state_and_picture(control, value, key):
    w = ReceptiveField(n_layers=2, input_size=32)
    before, after, picture_changed = _change(w, control, value)
    assert picture_changed and before[key] != after[key]
    assert getattr(w, control).value == value


def test_state_message_and_unit_follow_the_stack():
    w = ReceptiveField(n_layers=2, input_size=32)
    state = w.state()
    assert state["size"] == 5 and state["unit"] == (16, 16) and state["output_sizes"] == [32, 32]
    assert "<b>5×5</b>" in state["message"]
    w.set(stride=2, n_layers=4)  # last map 2x2: the unit moves back inside it
    state = w.state()
    assert state["output_sizes"][-1] == 2 and state["unit"] == (1, 1) and w.unit_row.max == 1
    assert state["size"] == receptive_field([(3, 2)] * 4)[-1]["size"] == 31
    w.set(padding="valid", kernel_size=7, stride=1, n_layers=6)  # 32 - 6*6 < 1: no output
    assert w.state()["error"] and "leaves no output" in w.message.value


def test_render_static_has_one_panel_per_stack():
    figure = ReceptiveField().render_static()
    assert len([ax for ax in figure.axes if ax.get_label() != "<colorbar>"]) == 6
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    two = ReceptiveField().render_static(stacks=[dict(n_layers=1), dict(n_layers=4, kernel_size=5)])
    assert len(two.axes) == 2
    with pytest.raises(ValueError, match="input_size"):
        ReceptiveField(input_size=4)
