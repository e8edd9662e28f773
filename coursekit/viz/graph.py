"""Draw the computation graph of an autograd :class:`~coursekit.nn.autograd.Tensor`.

Compute: :func:`graph_layout`. Draw: :func:`draw_graph`.

Two steps, kept apart so the geometry is tested without drawing anything:

* :func:`graph_layout` (pure: numbers only) turns the graph into value boxes, small
  operation circles (``+``, ``×``, ``σ``, ...) between them and the edges, placed
  in columns from left (inputs) to right (output), and routes every edge through
  the empty gaps between the columns so no arrow runs under a box.
* :func:`draw_graph` draws that layout with matplotlib (no graphviz).

Layout steps (a small Sugiyama layout): column = longest path from the leaves,
then every node that is not on the longest path moves right until it sits just
before the first operation that uses it (so a parameter appears next to where it
is used); an edge spanning several columns gets an invisible waypoint in each
column it crosses; nodes in a column are ordered by a few barycentre sweeps (each
node goes to the mean position of its neighbours), which removes most edge
crossings; heights are then chosen so each node lines up with its neighbours
without overlapping the others. Lengths are in inches at the base font size.
"""

from dataclasses import dataclass, field

import numpy as np

BASE_FONTSIZE = 8.0                            # points; the layout is measured at this size
CHAR_WIDTH = 0.602 * BASE_FONTSIZE / 72        # inches per character of DejaVu Sans Mono
LINE_HEIGHT = 1.3 * BASE_FONTSIZE / 72         # inches per text line
TEXT_LINESPACING = 1.1                         # matplotlib's factor giving LINE_HEIGHT
BOX_PAD = 0.07                                 # inches between text and box edge
NODE_GAP = 0.22                                # vertical gap between nodes of a column
WAYPOINT_HEIGHT = 0.12                         # room kept for an edge passing a column
MIN_COLUMN_GAP = 0.26                          # horizontal gap between columns
OP_TO_RESULT_GAP = 0.12                        # an op and its result: always a short straight arrow
OP_SYMBOLS = {"*": "×", "sigmoid": "σ", "**2": "x²", "**-1": "1/x", "**0.5": "√"}
# Colours: inputs and parameters (leaves), computed values, the output, operations.
LEAF_COLOR, VALUE_COLOR, OUTPUT_COLOR, OP_COLOR = "#f5e6cc", "#dde8f5", "#d5ecd4", "#ffffff"


def format_array(array, significant=4):
    """Text for a value or gradient: a number, the values of a tiny array, or its shape.

    array: np.ndarray. Scalars and arrays of at most 4 elements show their values
    with ``significant`` digits (a 2-D array one row per line); larger arrays show
    ``shape AxB``. Returns a list of text lines.
    """
    array = np.asarray(array)

    def number(v):
        return f"{v:.{significant}g}"

    if array.size == 1:
        return [number(array.item())]
    if array.size > 4 or array.ndim > 2:
        return ["shape " + "×".join(map(str, array.shape))]
    if array.ndim == 1:
        return ["[" + ", ".join(number(v) for v in array) + "]"]
    rows = ["[" + ", ".join(number(v) for v in row) + "]" for row in array]
    return ["[" + rows[0]] + [" " + r for r in rows[1:-1]] + [" " + rows[-1] + "]"]


def node_text(tensor, significant=4):
    """The lines of a value box: name (if any; ``const`` for an unnamed leaf), value,
    gradient (values or shape, see :func:`format_array`)."""
    name = tensor.label or ("" if tensor._prev else "const")
    lines = [name] if name else []
    for title, array in (("value", tensor.data), ("grad ", tensor.grad)):
        body = format_array(array, significant)
        lines.append(f"{title} {body[0]}")
        lines.extend(" " * (len(title) + 1) + line for line in body[1:])
    return lines


def op_symbol(op):
    """How an operation is written inside its circle (``*`` as ``×``, sigmoid as ``σ``)."""
    return OP_SYMBOLS.get(op, op)


@dataclass
class LayoutNode:
    """One drawn node. kind: "value" (a box), "op" (a circle) or "waypoint" (an edge
    passing through a column, not drawn). (x, y): centre in inches; width, height:
    the box (for a circle, its bounding square)."""

    kind: str
    layer: int
    lines: list
    width: float
    height: float
    tensor: object = None
    x: float = 0.0
    y: float = 0.0

    def contains(self, px, py, margin=0.0):
        """Whether (px, py) lies inside this node's box (or circle) shrunk by ``margin``."""
        if self.kind == "op":
            return np.hypot(px - self.x, py - self.y) < self.width / 2 - margin
        return (abs(px - self.x) < self.width / 2 - margin
                and abs(py - self.y) < self.height / 2 - margin)


@dataclass
class GraphLayout:
    """Result of :func:`graph_layout`.

    nodes: value boxes, op circles and waypoints; edges: (source, target) indices
    into ``nodes`` for every drawn arrow (waypoints removed); chains: per edge, the
    node indices it passes (source, waypoints, target); routes: per edge, the
    pieces of its path, each a (k, 2) array of points -- 2 points is a straight
    line, 4 a cubic Bézier curve; width, height: extent of the picture in inches.
    """

    nodes: list
    edges: list
    routes: list
    chains: list = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0

    def visible_nodes(self):
        return [n for n in self.nodes if n.kind != "waypoint"]


def _count_crossings(order_a, order_b, edges_between):
    """Edge crossings between two adjacent columns (edges as (upper, lower) node ids)."""
    pos_a = {n: i for i, n in enumerate(order_a)}
    pos_b = {n: i for i, n in enumerate(order_b)}
    pairs = [(pos_a[u], pos_b[v]) for u, v in edges_between]
    return sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:]
               if (a1 - a2) * (b1 - b2) < 0)


def _project_no_overlap(desired, separation):
    """Closest heights (least squares) to ``desired`` keeping node k at least
    ``separation[k]`` above node k+1 (pool-adjacent-violators on shifted values)."""
    offsets = np.concatenate([[0.0], np.cumsum(separation)])
    target = np.asarray(desired, float) + offsets  # must become non-increasing
    blocks = []  # [mean, count]
    for value in target:
        blocks.append([value, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            (m2, c2), (m1, c1) = blocks.pop(), blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    fitted = np.concatenate([[m] * c for m, c in blocks])
    return fitted - offsets


def graph_layout(tensor, significant=4, sweeps=6):
    """Place the computation graph of ``tensor`` (pure function, no drawing).

    Returns a :class:`GraphLayout`: one value box per tensor of ``tensor.graph()``,
    one op circle per tensor made by an operation, edges input box -> op circle ->
    result box, all with layer(source) < layer(target), and edge routes that stay
    in the gaps between columns.
    """
    if not callable(getattr(tensor, "graph", None)):
        raise TypeError(f"tensor must be a coursekit.nn.autograd.Tensor (the result of a "
                        f"computation), got {type(tensor).__name__}")
    tensors = tensor.graph()  # inputs before outputs
    nodes, successors = [], []
    value_index, op_index = {}, {}

    def add(node):
        nodes.append(node)
        successors.append([])
        return len(nodes) - 1

    for t in tensors:
        if t._prev:
            symbol = op_symbol(t._op)
            diameter = max(0.26, len(symbol) * CHAR_WIDTH + 2 * BOX_PAD)
            op_index[id(t)] = add(LayoutNode("op", 0, [symbol], diameter, diameter, t))
        lines = node_text(t, significant)
        width = max(len(line) for line in lines) * CHAR_WIDTH + 2 * BOX_PAD
        value_index[id(t)] = add(LayoutNode("value", 0, lines, width,
                                            len(lines) * LINE_HEIGHT + 2 * BOX_PAD, t))
    edges = []
    for t in tensors:
        if t._prev:
            for child in t._prev:
                edges.append((value_index[id(child)], op_index[id(t)]))
            edges.append((op_index[id(t)], value_index[id(t)]))
    for u, v in edges:
        successors[u].append(v)
    predecessors = [[] for _ in nodes]
    for u, v in edges:
        predecessors[v].append(u)

    # Columns: longest path from the leaves (nodes are already in topological order) ...
    layer = [0] * len(nodes)
    for v in range(len(nodes)):
        layer[v] = max((layer[u] + 1 for u in predecessors[v]), default=0)
    # ... then slide each node right to just before its first consumer.
    for u in reversed(range(len(nodes))):
        if successors[u]:
            layer[u] = min(layer[v] for v in successors[u]) - 1
    for node, d in zip(nodes, layer):
        node.layer = d

    # Long edges get one waypoint per column they cross.
    chains = []  # per edge: node ids from source to target, waypoints in between
    for u, v in edges:
        chain = [u]
        for d in range(layer[u] + 1, layer[v]):
            chain.append(len(nodes))
            nodes.append(LayoutNode("waypoint", d, [], 0.0, WAYPOINT_HEIGHT))
        chains.append(chain + [v])
    n_layers = max(n.layer for n in nodes) + 1
    up = [[] for _ in nodes]    # neighbours one column to the left
    down = [[] for _ in nodes]  # neighbours one column to the right
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)

    # Order inside each column: start from the topological order, then barycentre sweeps.
    columns = [[] for _ in range(n_layers)]
    for i, node in enumerate(nodes):
        columns[node.layer].append(i)

    def crossings(cols):
        return sum(_count_crossings(cols[d], cols[d + 1],
                                    [(a, b) for a in cols[d] for b in down[a]])
                   for d in range(n_layers - 1))

    best, best_crossings = [list(c) for c in columns], crossings(columns)
    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        layer_range = range(1, n_layers) if forward else range(n_layers - 2, -1, -1)
        for d in layer_range:
            neighbour_col = columns[d - 1] if forward else columns[d + 1]
            where = {n: i for i, n in enumerate(neighbour_col)}
            keys = {}
            for i, n in enumerate(columns[d]):
                nbrs = up[n] if forward else down[n]
                keys[n] = np.mean([where[m] for m in nbrs]) if nbrs else i
            columns[d] = sorted(columns[d], key=lambda n: (keys[n], columns[d].index(n)))
        now = crossings(columns)
        if now < best_crossings:
            best, best_crossings = [list(c) for c in columns], now
    columns = best

    # Heights: line each node up with its neighbours, then push apart to remove overlaps.
    def separations(col):
        return [(nodes[a].height + nodes[b].height) / 2 + NODE_GAP for a, b in zip(col, col[1:])]

    for col in columns:
        y = -np.concatenate([[0.0], np.cumsum(separations(col))])
        for n, value in zip(col, y - y.mean()):
            nodes[n].y = value
    for sweep in range(2 * sweeps):
        order = range(n_layers) if sweep % 2 == 0 else range(n_layers - 1, -1, -1)
        for d in order:
            col = columns[d]
            desired = []
            for n in col:
                nbrs = up[n] + down[n]
                desired.append(np.mean([nodes[m].y for m in nbrs]) if nbrs else nodes[n].y)
            for n, value in zip(col, _project_no_overlap(desired, separations(col))):
                nodes[n].y = value

    # Columns left to right; a wider gap where edges climb steeply, so curves stay readable.
    column_width = [max(nodes[n].width for n in col) for col in columns]
    x = 0.0
    for d, col in enumerate(columns):
        if d > 0:
            climb = max((abs(nodes[a].y - nodes[b].y) for a in columns[d - 1] for b in down[a]),
                        default=0.0)
            gap = min(max(MIN_COLUMN_GAP, 0.3 * climb), 1.0)
            if all(nodes[n].kind == "op" for n in columns[d - 1]) and climb < 1e-9:
                gap = OP_TO_RESULT_GAP
            x += column_width[d - 1] / 2 + gap + column_width[d] / 2
        for n in col:
            nodes[n].x = x
    bottom = min(n.y - n.height / 2 for n in nodes)
    top = max(n.y - n.height / 2 + n.height for n in nodes)
    for n in nodes:
        n.x += column_width[0] / 2
        n.y -= bottom
    routes = _route_edges(nodes, chains, column_width)
    return GraphLayout(nodes=nodes, edges=[(c[0], c[-1]) for c in chains], routes=routes,
                       chains=chains, width=x + column_width[0] / 2 + column_width[-1] / 2,
                       height=top - bottom)


def _route_edges(nodes, chains, column_width):
    """Pieces of each edge's path: a horizontal stub out of the source column, an
    S-shaped cubic across each gap, a horizontal run through waypoint columns, and a
    stub into the target that ends on its border (box side or circle)."""
    # Where each edge leaves its source and enters its target, spread so arrows that
    # share a node do not share a point (sorted by the height of the other end).
    out_ports, in_ports = {}, {}
    by_source, by_target = {}, {}
    for e, chain in enumerate(chains):
        by_source.setdefault(chain[0], []).append(e)
        by_target.setdefault(chain[-1], []).append(e)
    for ports, groups, other in ((out_ports, by_source, 1), (in_ports, by_target, -2)):
        for n, group in groups.items():
            group = sorted(group, key=lambda e: -nodes[chains[e][other]].y)
            k, node = len(group), nodes[n]
            for rank, e in enumerate(group):
                frac = 0.0 if k == 1 else 0.5 - rank / (k - 1)  # +0.5 top .. -0.5 bottom
                if node.kind == "op":
                    angle = np.radians(70) * frac  # along the circle's left or right side
                    r = node.width / 2
                    dx, dy = r * np.cos(angle), r * np.sin(angle)
                else:
                    dx, dy = node.width / 2, frac * (node.height - 2 * BOX_PAD)
                ports[e] = (dx, dy)
    routes = []
    for e, chain in enumerate(chains):
        src, dst = nodes[chain[0]], nodes[chain[-1]]
        pieces = []
        dx, dy = out_ports[e]
        in_dx, in_dy = in_ports[e]
        point = np.array([src.x + dx, src.y + dy])
        for a, b in zip(chain, chain[1:]):
            na, nb = nodes[a], nodes[b]
            leave_x = na.x + column_width[na.layer] / 2
            if a != chain[0]:  # pass straight through a waypoint's column
                point = np.array([na.x - column_width[na.layer] / 2, na.y])
            if point[0] < leave_x - 1e-9:
                pieces.append(np.array([point, [leave_x, point[1]]]))
            start = np.array([leave_x, point[1]])
            end_y = nb.y + in_dy if b == chain[-1] else nb.y
            arrive_x = nb.x - column_width[nb.layer] / 2
            half = (arrive_x - start[0]) / 2
            pieces.append(np.array([start, [start[0] + half, start[1]],
                                    [arrive_x - half, end_y], [arrive_x, end_y]]))
            point = np.array([arrive_x, end_y])
        end = np.array([dst.x - in_dx, dst.y + in_dy])
        if end[0] > point[0] + 1e-9:
            pieces.append(np.array([point, end]))
        routes.append(pieces)
    return routes


def _route_path(pieces):
    from matplotlib.path import Path

    vertices, codes = [pieces[0][0]], [Path.MOVETO]
    for piece in pieces:
        vertices.extend(piece[1:])
        codes.extend([Path.LINETO] if len(piece) == 2 else [Path.CURVE4] * 3)
    return Path(np.array(vertices), codes)


def draw_graph(tensor, ax=None, title=None, significant=4, max_size=(22.0, 14.0)):
    """Draw the computation graph that produced ``tensor`` (matplotlib only).

    Inputs on the left, the result on the right. Each value box shows the tensor's
    label (``const`` for an unlabelled constant; the shape for arrays), its value and
    its gradient with ``significant`` digits (arrays of at most 4 elements in full,
    larger ones as their shape); each small circle is the operation that made the
    next box. ax: draw there (the text is scaled to fit its size); None makes a new
    figure sized to the graph (at most ``max_size`` inches, scaled down beyond).
    title: the Axes title (default: a description). Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

    layout = graph_layout(tensor, significant=significant)
    margin = 0.15
    width, height = layout.width + 2 * margin, layout.height + 2 * margin
    title_room, label_room = 0.45, 0.3  # inches above and below the picture
    if ax is None:
        scale = min(1.0, max_size[0] / width, max_size[1] / height)
        # Wide enough for the title and axis label; the picture is centred in the extra room.
        fig_w = max(width * scale, 6.5)
        fig_h = height * scale + title_room + label_room
        fig = plt.figure(figsize=(fig_w, fig_h), layout="none")  # axes placed by hand
        ax = fig.add_axes([0, label_room / fig_h, 1, height * scale / fig_h])
    else:
        box = ax.get_position()
        fig_w, fig_h = ax.figure.get_size_inches()
        scale = min(box.width * fig_w / width, box.height * fig_h / height, 1.5)
    fontsize = BASE_FONTSIZE * scale
    # Equal scale on both axes (circles stay round); the limits grow to fill the Axes.
    ax.update_datalim([(-margin, -margin), (layout.width + margin, layout.height + margin)])
    ax.margins(0)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)

    for node in layout.visible_nodes():
        if node.kind == "op":
            ax.add_patch(Circle((node.x, node.y), node.width / 2, facecolor=OP_COLOR,
                                edgecolor="0.3", linewidth=0.9, zorder=3))
            ax.text(node.x, node.y, node.lines[0], ha="center", va="center", zorder=4,
                    fontsize=fontsize * 1.1, family="DejaVu Sans Mono")
            continue
        color = (OUTPUT_COLOR if node.tensor is tensor
                 else VALUE_COLOR if node.tensor._prev else LEAF_COLOR)
        ax.add_patch(FancyBboxPatch((node.x - node.width / 2, node.y - node.height / 2),
                                    node.width, node.height, facecolor=color, edgecolor="0.3",
                                    linewidth=0.9, zorder=3,
                                    boxstyle="round,pad=0,rounding_size=0.05"))
        ax.text(node.x - node.width / 2 + BOX_PAD, node.y, "\n".join(node.lines),
                ha="left", va="center", fontsize=fontsize, family="DejaVu Sans Mono",
                linespacing=TEXT_LINESPACING, zorder=4)
    for pieces in layout.routes:
        ax.add_patch(FancyArrowPatch(path=_route_path(pieces), arrowstyle="-|>",
                                     mutation_scale=9 * scale, color="0.35",
                                     linewidth=0.9, shrinkA=0, shrinkB=0, zorder=2))
    ax.set_title(title if title is not None else
                 "Computation graph: value and gradient of every node")
    ax.set_xlabel("forward pass: inputs → output (the backward pass runs right to left)")
    ax.autoscale_view()
    return ax
