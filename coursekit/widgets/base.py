"""The pattern every coursekit widget follows.

A widget owns one matplotlib ``Figure`` (not a pyplot figure, so the inline
backend never shows a stray copy), redraws it when a control changes and shows
it as a PNG inside an ``ipywidgets.Image``. That works in JupyterLab with the
default inline backend and no extension, and it can be tested headless: change
``widget.<control>.value`` and read ``widget.state()``, ``widget.figure`` and
``widget.image.value``.

Subclasses define:
    ``_controls()``  -> list of ipywidgets shown above the picture
    ``draw(figure)`` -> draw the current state on an empty figure, or, for fast redraws,
                        ``make_axes(figure)`` + ``draw_axes(axes)`` with ``layout_key()`` (the
                        layout is computed once per key) and optionally ``redraw_panels(axes)``;
                        ``update()`` is the one redraw path
    ``state()``      -> a plain dict of what the picture currently shows: the testing
                        contract. Tests set controls and assert on ``state()`` (and that the
                        PNG changed), never on matplotlib artists, so the drawing may change
                        freely while ``state()`` keeps its keys and meaning.
    ``render_static(...)`` -> a new Figure of small multiples for the website

Frames for the website. When ``make execute`` stores a notebook (``COURSEKIT_FRAMES=1`` in the
kernel's environment, set by ``coursekit.execute``; never under nbval), a displayed widget
precomputes pictures for its main controls, one control at a time with the others at their
defaults, at most ``MAX_FRAMES`` values each, and shows them in ``widgets.Stack``s whose
``selected_index`` is ``jslink``ed to a copy of the control: on the static page, moving the
control switches the picture without a kernel. The main controls are ``frame_controls`` (names
of control attributes); by default the first ``MAX_FRAME_CONTROLS`` sliders, drop-downs or
check boxes of ``_controls()``. ``frame_controls = ()`` (and every ``BackgroundPlay`` widget,
which trains) keeps the frozen view that the website labels "static preview". The pictures of
one kernel (a page) share ``PAGE_FRAME_BUDGET`` bytes; a widget that would exceed it gets fewer
controls or none.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time

import ipywidgets as widgets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from coursekit.viz.style import use_style

__all__ = ["FRAMES_ENV", "MAX_FRAMES", "PAGE_FRAME_BUDGET", "RENDER_SCALE", "BackgroundPlay",
           "FigureWidget", "StaticFigure", "figure_to_png", "frame_values", "frames_enabled",
           "new_static_figure", "png_size", "wide_label"]


def wide_label(*controls) -> None:
    """Give these controls room for their whole description (long labels are cut off otherwise)."""
    for control in controls:
        control.style.description_width = "initial"


#: PNG pixels per CSS pixel: pictures are rendered at twice the size they are shown at, so
#: they stay sharp on high-density screens and when zoomed.
RENDER_SCALE = 2
#: CSS pixels per inch of a static figure (matplotlib's savefig default, as the notebooks').
STATIC_DPI = 100


def figure_to_png(figure: Figure, dpi: float | None = None) -> bytes:
    """Render ``figure`` with the Agg backend and return the PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi or figure.dpi)
    return buffer.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels, read from the PNG header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


class StaticFigure(Figure):
    """A pyplot-free Figure that shows itself as a PNG in a notebook.

    Jupyter's inline backend only registers its Figure display hook once pyplot
    has drawn something; ``_repr_png_`` makes ``w.render_static()`` as the last
    line of a cell show the picture in any case.
    """

    def _repr_png_(self):
        """PNG at ``RENDER_SCALE`` x its display size, with the display size as metadata."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight", dpi=STATIC_DPI * RENDER_SCALE)
        png = buffer.getvalue()
        width, height = png_size(png)
        return png, {"width": width // RENDER_SCALE, "height": height // RENDER_SCALE}


def new_static_figure(n_panels: int, n_columns: int | None = None, panel_size=(3.0, 2.8),
                      title: str | None = None, **subplot_kw):
    """A pyplot-free Figure with ``n_panels`` axes in a grid (small multiples).

    Returns ``(figure, axes)`` where ``axes`` is a flat list of length
    ``n_panels`` (grid cells beyond ``n_panels`` are removed).
    """
    if n_panels < 1:
        raise ValueError(f"n_panels must be >= 1, got {n_panels}")
    use_style()
    n_columns = n_columns or min(n_panels, 4)
    n_rows = -(-n_panels // n_columns)
    figure = StaticFigure(figsize=(panel_size[0] * n_columns, panel_size[1] * n_rows + (0.4 if title else 0)),
                          layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.subplots(n_rows, n_columns, squeeze=False, subplot_kw=subplot_kw)
    axes = list(grid.ravel())
    for extra in axes[n_panels:]:
        extra.remove()
    if title:
        figure.suptitle(title)
    return figure, axes[:n_panels]


#: Set to "1" in the kernel's environment by ``coursekit.execute`` (make execute) only.
FRAMES_ENV = "COURSEKIT_FRAMES"
#: Values precomputed per control (the default is always one of them).
MAX_FRAMES = 12
#: Controls per widget that get frames unless the widget declares ``frame_controls``.
MAX_FRAME_CONTROLS = 2
#: PNG bytes of all frames of one kernel (one notebook, one page); base64 in the page adds 1/3.
PAGE_FRAME_BUDGET = 3_000_000
_frame_bytes_used = 0  # in this kernel


def frames_enabled() -> bool:
    """Whether displayed widgets precompute frames (``make execute`` storing notebooks)."""
    return os.environ.get(FRAMES_ENV) == "1"


def _spread(values: list, default, limit: int) -> list:
    """At most ``limit`` of ``values``, evenly spread, always with ``default``."""
    if len(values) <= limit:
        return list(values)
    step = (len(values) - 1) / (limit - 1)
    picked = [values[round(i * step)] for i in range(limit)]
    if default in values and default not in picked:
        nearest = min(range(limit), key=lambda i: abs(values.index(picked[i]) - values.index(default)))
        picked[nearest] = default
    return picked


def frame_values(control, limit: int = MAX_FRAMES) -> list | None:
    """The values a control's frames show, or None when it is not a control that frames suit
    (text boxes, buttons, ranges)."""
    import numpy as np

    value = control.value
    if isinstance(control, (widgets.Dropdown, widgets.ToggleButtons, widgets.RadioButtons,
                            widgets.SelectionSlider, widgets.Select)):
        values = [v for _, v in control._options_full] if hasattr(control, "_options_full") \
            else list(control.options)
        return _spread(values, value, limit) if len(values) > 1 else None
    if isinstance(control, widgets.Checkbox):
        return [False, True]
    if isinstance(control, widgets.IntSlider):
        values = list(range(control.min, control.max + 1, control.step or 1))
        return _spread(values, value, limit) if len(values) > 1 else None
    if isinstance(control, widgets.FloatLogSlider):
        grid = control.base ** np.linspace(control.min, control.max, limit)
    elif isinstance(control, widgets.FloatSlider):
        if control.max <= control.min:
            return None
        step = control.step or (control.max - control.min) / 100
        n = min(limit, int(round((control.max - control.min) / step)) + 1)
        grid = control.min + step * np.round(np.linspace(0, (control.max - control.min) / step, n))
    else:
        return None
    values = [float(v) for v in grid]
    nearest = int(np.argmin([abs(v - value) for v in values]))
    values[nearest] = value
    return values


def _frame_label(control, value) -> str:
    if isinstance(control, (widgets.Dropdown, widgets.ToggleButtons, widgets.RadioButtons,
                            widgets.SelectionSlider, widgets.Select)):
        for label, option in getattr(control, "_options_full", ()):
            if option == value:
                return str(label)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _palette_png(png: bytes) -> bytes:
    """The PNG with at most 256 colours (a third to a fifth of the bytes; plots have few)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue() if buffer.tell() < len(png) else png


class FigureWidget:
    """Base class: controls on top, a PNG of ``self.figure`` below, a message line."""

    figsize = (9.0, 4.0)
    #: Names of the main controls whose frames the website shows; None: chosen automatically,
    #: ``()``: none (the page shows the frozen widget, labelled a static preview).
    frame_controls: tuple[str, ...] | None = None
    dpi = 80  # CSS pixels per inch of the picture as shown; it is rendered RENDER_SCALE x finer

    def __init__(self):
        use_style()
        self.figure = Figure(figsize=self.figsize, dpi=self.dpi * RENDER_SCALE,
                             layout="constrained")
        FigureCanvasAgg(self.figure)
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=self.display_width(), max_width="100%", height="auto"))
        self.message = widgets.HTML(value="")
        self.redraw_count = 0
        self._hold = False

    # -- wiring -------------------------------------------------------------------
    def _controls(self) -> list:
        raise NotImplementedError

    def _build_ui(self) -> None:
        """Build ``self.ui`` and connect every control to a redraw."""
        controls = self._controls()
        rows = [widgets.HBox(controls[i:i + 3]) for i in range(0, len(controls), 3)]
        self.ui = widgets.VBox([*rows, self.message, self.image])
        for control in controls:
            if hasattr(control, "value") and not isinstance(control, widgets.Button):
                control.observe(self._on_change, names="value")

    @contextlib.contextmanager
    def hold_redraws(self):
        """Within this block, control changes do not redraw (nested blocks are fine)."""
        previous = self._hold
        self._hold = True
        try:
            yield
        finally:
            self._hold = previous

    def _on_change(self, change=None) -> None:
        if not self._hold:
            self.update()

    @property
    def widget(self):
        """The ipywidgets container (``display(w.widget)`` or just ``w``)."""
        return self.ui

    def _ipython_display_(self):
        from IPython.display import display

        display(self.frames_ui() if frames_enabled() else self.ui)

    # -- frames for the website ------------------------------------------------------
    def _frame_control_names(self) -> list[str]:
        if isinstance(self, BackgroundPlay) or self.frame_controls == ():
            return []
        if self.frame_controls is not None:
            return list(self.frame_controls)
        by_id = {id(value): name for name, value in vars(self).items()
                 if isinstance(value, widgets.Widget)}
        names = [by_id[id(c)] for c in self._controls()
                 if id(c) in by_id and frame_values(c) is not None]
        return names[:MAX_FRAME_CONTROLS]

    def frames(self, budget: int | None = None) -> dict[str, list[tuple[str, bytes]]]:
        """``{control name: [(value label, PNG), ...]}``: the picture for each value of each main
        control with the others at their current values, within ``budget`` bytes (a control
        whose frames do not fit, or whose pictures are all alike here, is left out). The widget
        is back in its state afterwards."""
        budget = PAGE_FRAME_BUDGET if budget is None else budget
        controls = {name: getattr(self, name) for name in self._frame_control_names()}
        self.frame_errors = {}
        if not controls:  # untouched: a widget that trains (update() = reset) keeps its state
            return {}
        defaults = {name: control.value for name, control in self._all_controls().items()}
        out, used = {}, 0
        try:
            for name, control in controls.items():
                frames = []
                for value in frame_values(control) or []:
                    try:
                        self._restore(defaults)
                        self.set(**{name: value})
                    except Exception as error:  # a value this widget cannot show: left out
                        self.frame_errors[(name, value)] = repr(error)  # (printing would show)
                        continue
                    frames.append((_frame_label(control, value), _palette_png(self.image.value)))
                size = sum(len(png) for _, png in frames)
                if len({png for _, png in frames}) > 1 and used + size <= budget:
                    out[name] = frames
                    used += size
        finally:
            self._restore(defaults)
            self.update()
        return out

    def _all_controls(self) -> dict:
        by_id = {id(value): name for name, value in vars(self).items()
                 if isinstance(value, widgets.Widget)}
        return {by_id[id(c)]: c for c in self._controls()
                if id(c) in by_id and hasattr(c, "value") and not isinstance(c, widgets.Button)}

    def _restore(self, defaults: dict) -> None:
        with self.hold_redraws():
            for _ in range(2):  # twice: a control may move another's range or value
                for name, value in defaults.items():
                    control = getattr(self, name)
                    with contextlib.suppress(Exception):
                        if control.value != value:
                            control.value = value

    def frames_ui(self):
        """The widget as the website shows it: for each main control a copy of it linked to a
        ``Stack`` of its precomputed pictures (and, for several, buttons choosing the control).
        Falls back to the frozen ``ui`` when there is nothing to precompute."""
        global _frame_bytes_used
        self.frame_errors = {}
        try:
            frames = self.frames(PAGE_FRAME_BUDGET - _frame_bytes_used)
        except Exception as error:  # never let the website's extra break a notebook's run
            self.frame_errors[""] = repr(error)
            frames = {}
        if not frames:
            return self.ui
        _frame_bytes_used += sum(len(png) for items in frames.values() for _, png in items)
        width = self.image.layout.width
        panels, self.frame_links = [], []
        for name, items in frames.items():
            control = getattr(self, name)
            labels = [label for label, _ in items]
            current = _frame_label(control, control.value)
            proxy = widgets.SelectionSlider(
                options=labels, value=current if current in labels else labels[0],
                description=control.description or name, continuous_update=True,
                style={"description_width": "initial"})
            stack = widgets.Stack([widgets.Image(value=png, format="png", layout=widgets.Layout(
                width=width, max_width="100%", height="auto")) for _, png in items],
                selected_index=proxy.index)
            self.frame_links.append(widgets.jslink((proxy, "index"), (stack, "selected_index")))
            panels.append(widgets.VBox([proxy, stack]))
        note = widgets.HTML(
            "<p class='frames-note'>Precomputed: each control shows its own pictures with the "
            "others at their defaults. Run the notebook to combine them.</p>")
        if len(panels) == 1:
            box = widgets.VBox([note, *panels])
        else:
            names = [getattr(self, n).description or n for n in frames]
            chooser = widgets.ToggleButtons(options=names, description="vary",
                                            style={"description_width": "initial"})
            outer = widgets.Stack(panels, selected_index=0)
            self.frame_links.append(widgets.jslink((chooser, "index"), (outer, "selected_index")))
            box = widgets.VBox([note, chooser, outer])
        box.add_class("coursekit-frames")
        return box

    def display_width(self) -> str:
        """The picture's CSS width: its figure width at ``dpi`` (half its PNG width)."""
        return f"{round(self.figure.get_figwidth() * self.dpi)}px"

    # -- drawing ------------------------------------------------------------------
    def draw(self, figure: Figure) -> None:
        """Draw the current state on an empty ``figure`` (default: ``make_axes`` + ``draw_axes``)."""
        self.draw_axes(self.make_axes(figure))

    def make_axes(self, figure: Figure):
        """Create the panels (subclasses that support fast redraws override this and ``draw_axes``)."""
        raise NotImplementedError

    def draw_axes(self, axes) -> None:
        raise NotImplementedError

    def layout_key(self):
        """A value that changes when the set of panels changes. ``None`` (the default) means:
        rebuild the whole figure on every update. Otherwise the layout is computed once
        (constrained layout, the expensive part of a redraw) and frozen, and an update only
        clears and redraws the existing panels."""
        return None

    def update(self) -> None:
        """Recompute, redraw the figure and refresh the PNG shown in the widget."""
        key = self.layout_key()
        if key is None or key != getattr(self, "_frozen_key", None):
            self.figure.clear()
            self.figure.set_dpi(self.dpi * RENDER_SCALE)
            self.figure.set_layout_engine("constrained")
            if key is None:
                self.draw(self.figure)
            else:
                self._axes = self.make_axes(self.figure)
                self.draw_axes(self._axes)
            self.image.value = figure_to_png(self.figure)
            if key is not None:
                self.figure.set_layout_engine("none")
            self._frozen_key = key
        else:
            self.redraw_panels(self._axes)
            self.image.value = figure_to_png(self.figure)
        width = self.display_width()
        if self.image.layout.width != width:  # a widget may resize its figure
            self.image.layout.width = width
        self.redraw_count += 1

    def redraw_panels(self, axes) -> None:
        """Redraw into existing panels (default: clear each, then ``draw_axes``)."""
        for ax in (axes.values() if isinstance(axes, dict) else axes):
            ax.clear()
        self.draw_axes(axes)

    def state(self) -> dict:
        """A plain dict (numbers, strings, arrays) of what the picture shows now: the testing
        contract (see the module docstring)."""
        raise NotImplementedError

    def set(self, **values) -> None:
        """Set several controls at once with a single redraw, e.g. ``w.set(lr=0.1, steps=50)``."""
        with self.hold_redraws():
            for name, value in values.items():
                control = getattr(self, name, None)
                if control is None or not hasattr(control, "value"):
                    raise ValueError(f"{type(self).__name__} has no control named {name!r}")
                control.value = value
        self.update()


class BackgroundPlay:
    """Mixin for widgets that train while the student watches (Playground, GANTrainer).

    ``play`` runs a training loop in a background thread, so the notebook stays responsive
    and the Stop button (``play_button`` pressed again) works; the loop checks
    ``stop_flag`` (a ``threading.Event``). Call ``_init_play()`` in ``__init__``; a widget's
    ``play`` calls ``_start(run, blocking)`` with its own loop body.
    """

    def _init_play(self) -> None:
        self.stop_flag = threading.Event()
        self._thread = None

    def _on_play(self, change) -> None:
        """The play button toggled: play, or stop a running play."""
        if change["new"]:
            self.play()
        else:
            self.stop()

    def playing(self) -> bool:
        """Whether a background play is running."""
        return self._thread is not None and self._thread.is_alive()

    def _start(self, run, blocking: bool) -> None:
        """Run ``run()`` now (``blocking``) or in a background thread."""
        if blocking:
            run()
        else:
            self._thread = threading.Thread(target=run, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask a running play to stop (sets ``stop_flag``) and wait for it."""
        self.stop_flag.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None
        self.play_button.description = "▶ play"

    def wait(self, timeout: float = 60.0) -> None:
        """Block until a background play finishes (for scripts and tests)."""
        deadline = time.time() + timeout
        while self.playing() and time.time() < deadline:
            self._thread.join(0.05)
