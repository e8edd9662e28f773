"""Drawing the autograd graph (coursekit.viz.graph): layout geometry without drawing, then
the drawing itself."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from coursekit.nn.autograd import MLP, Tensor  # noqa: E402
from coursekit.viz.graph import draw_graph, format_array, graph_layout  # noqa: E402


def _worked_example_graph():
    """The 2-2-2 sigmoid network of chapter 02 (SYLLABUS), after backward."""
    W1 = Tensor([[0.15, 0.20], [0.25, 0.30]], label="W1")
    W2 = Tensor([[0.40, 0.45], [0.50, 0.55]], label="W2")
    b1, b2 = Tensor(0.35, label="b1"), Tensor(0.60, label="b2")
    i, t = Tensor([0.05, 0.10], label="i"), Tensor([0.01, 0.99], label="t")
    o = (W2 @ (W1 @ i + b1).sigmoid() + b2).sigmoid()
    E = ((o - t) ** 2).sum() * 0.5
    E.backward()
    return E


def _reused_node_graph():
    a, b = Tensor(np.ones((3, 4)), label="a"), Tensor(2.0, label="b")
    h = a * b - 1.0
    out = (h * h + h).sum()
    out.backward()
    return out


GRAPHS = {"f_xyz": lambda: _xyz_graph(), "worked_example": _worked_example_graph,
          "reused_node": _reused_node_graph,
          "mlp": lambda: (MLP([3, 5, 4, 2], activation="tanh", rng=0)(np.ones((6, 3))) ** 2).mean()}


def _xyz_graph():
    x, y, z = Tensor(-2.0, label="x"), Tensor(5.0, label="y"), Tensor(-4.0, label="z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return f


def _bezier_points(piece, n=25):
    """Points along a route piece: a straight segment (2 points) or a cubic (4)."""
    s = np.linspace(0, 1, n)[:, None]
    if len(piece) == 2:
        return (1 - s) * piece[0] + s * piece[1]
    p0, p1, p2, p3 = piece
    return (1 - s) ** 3 * p0 + 3 * (1 - s) ** 2 * s * p1 + 3 * (1 - s) * s**2 * p2 + s**3 * p3


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_layout_has_every_node_once_and_edges_left_to_right(name):
    out = GRAPHS[name]()
    layout = graph_layout(out)
    tensors = out.graph()
    visible = layout.visible_nodes()
    values = [n for n in visible if n.kind == "value"]
    ops = [n for n in visible if n.kind == "op"]
    assert len(values) == len(tensors)
    assert {id(n.tensor) for n in values} == {id(t) for t in tensors}
    assert len(ops) == sum(1 for t in tensors if t._prev)
    # one arrow per input of each op, plus op -> its result
    assert len(layout.edges) == sum(len(t._prev) for t in tensors) + len(ops)
    for u, v in layout.edges:
        src, dst = layout.nodes[u], layout.nodes[v]
        assert src.kind != "waypoint" and dst.kind != "waypoint"
        assert src.layer < dst.layer and src.x < dst.x
        assert (src.kind == "op") != (dst.kind == "op")  # boxes and circles alternate
    output_node = next(n for n in values if n.tensor is out)
    assert output_node.layer == max(n.layer for n in layout.nodes)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_layout_boxes_do_not_overlap_and_arrows_avoid_boxes(name):
    layout = graph_layout(GRAPHS[name]())
    visible = layout.visible_nodes()
    for k, a in enumerate(visible):
        assert 0 <= a.x - a.width / 2 and a.x + a.width / 2 <= layout.width + 1e-9
        assert 0 <= a.y - a.height / 2 + 1e-9 and a.y + a.height / 2 <= layout.height + 1e-9
        for b in visible[k + 1:]:
            apart_x = abs(a.x - b.x) >= (a.width + b.width) / 2
            apart_y = abs(a.y - b.y) >= (a.height + b.height) / 2 + 0.1
            assert apart_x or apart_y, (a.lines, b.lines)
    for (u, v), pieces in zip(layout.edges, layout.routes):
        points = np.concatenate([_bezier_points(p) for p in pieces])
        # no point of an arrow lies under any box or circle (1e-6 in from the border) ...
        for node in visible:
            inside = [node.contains(px, py, margin=1e-6) for px, py in points]
            assert not any(inside), (node.lines, layout.nodes[u].lines, layout.nodes[v].lines)
        # ... and it starts and ends on the borders of its two nodes
        for node, (px, py) in ((layout.nodes[u], points[0]), (layout.nodes[v], points[-1])):
            if node.kind == "op":
                assert abs(np.hypot(px - node.x, py - node.y) - node.width / 2) < 1e-9
            else:
                assert abs(abs(px - node.x) - node.width / 2) < 1e-9
                assert abs(py - node.y) <= node.height / 2
        assert np.all(np.diff(points[:, 0]) >= -1e-9)  # arrows only run left to right


@pytest.mark.parametrize("name", ["f_xyz", "worked_example", "reused_node"])
def test_graph_layout_orders_columns_without_crossings(name):
    """These graphs can be drawn without crossing arrows; the barycentre sweeps must find it."""
    assert _crossings(graph_layout(GRAPHS[name]())) == 0


def _crossings(layout):
    """Pairs of arrows that cross between two adjacent columns."""
    segments = {}  # column -> (upper end y, lower end y) of each hop to the next column
    for chain in layout.chains:
        for a, b in zip(chain, chain[1:]):
            na, nb = layout.nodes[a], layout.nodes[b]
            segments.setdefault(na.layer, []).append((na.y, nb.y))
    return sum(1 for hops in segments.values() for k, (a1, b1) in enumerate(hops)
               for a2, b2 in hops[k + 1:] if (a1 - a2) * (b1 - b2) < -1e-12)


def test_barycentre_sweeps_remove_most_crossings():
    a, b, c = Tensor(1.0, label="a"), Tensor(2.0, label="b"), Tensor(3.0, label="c")
    out = (a * b).tanh() * (b * c).tanh() * (c * a).tanh()
    out.backward()
    before, after = (_crossings(graph_layout(out, sweeps=s)) for s in (0, 6))
    assert before >= 10 and after <= before // 4


def test_format_array_four_significant_digits_values_or_shape():
    assert format_array(np.array(0.000438649)) == ["0.0004386"]
    assert format_array(np.array([0.593269992, -12.0])) == ["[0.5933, -12]"]
    assert format_array(np.array([[0.15, 0.2], [0.25, 0.3]])) == ["[[0.15, 0.2]", " [0.25, 0.3]]"]
    assert format_array(np.zeros((3, 4))) == ["shape 3×4"]
    assert format_array(np.zeros(5)) == ["shape 5"]


def test_draw_graph_labels_values_gradients_and_op_circles():
    f = _xyz_graph()
    ax = draw_graph(f)
    texts = [t.get_text() for t in ax.texts]
    boxes = [t for t in texts if "value" in t]
    assert len(boxes) == 5 and sorted(t for t in texts if "value" not in t) == ["+", "×"]
    assert any(t.startswith("f\nvalue -12") and t.endswith("grad  1") for t in boxes)
    assert any(t.startswith("x\nvalue -2") and "grad  -4" in t for t in boxes)
    assert len(ax.patches) == 5 + 2 + 6  # boxes, circles, arrows (2 into each op, 1 out)
    assert ax.get_title() and ax.get_xlabel()
    matplotlib.pyplot.close(ax.figure)
    # into a given Axes, with a title; the figure grows with the graph
    fig, given = matplotlib.pyplot.subplots(figsize=(8, 3))
    assert draw_graph(f, ax=given, title="(x + y) z") is given and given.get_title() == "(x + y) z"
    matplotlib.pyplot.close(fig)
    with pytest.raises(TypeError, match="tensor must be a coursekit.nn.autograd.Tensor.*ndarray"):
        draw_graph(np.ones(3))
    small, large = draw_graph(f), draw_graph(_worked_example_graph())
    assert large.figure.get_size_inches()[0] > 2 * small.figure.get_size_inches()[0]
    matplotlib.pyplot.close("all")
