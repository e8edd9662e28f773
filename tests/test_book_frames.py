"""Widgets that respond on the static website: precomputed frames of their main controls
(coursekit.widgets.base). No build, no browser: the browser check is in test_book.py."""

from __future__ import annotations

import ipywidgets as widgets

from coursekit.widgets import base
from coursekit.widgets.base import FigureWidget, frame_values


def test_frame_values_spread_at_most_twelve_and_keep_the_default():
    assert frame_values(widgets.IntSlider(value=2, min=1, max=6)) == [1, 2, 3, 4, 5, 6]
    many = frame_values(widgets.IntSlider(value=37, min=0, max=100))
    assert len(many) == 12 and 37 in many and many[0] == 0 and many[-1] == 100
    floats = frame_values(widgets.FloatSlider(value=0.3, min=0, max=1, step=0.01))
    assert len(floats) == 12 and 0.3 in floats
    logs = frame_values(widgets.FloatLogSlider(value=0.01, min=-4, max=0))
    assert len(logs) == 12 and 0.01 in logs
    assert frame_values(widgets.Dropdown(options=["a", "b", "c"], value="b")) == ["a", "b", "c"]
    assert frame_values(widgets.Checkbox(value=True)) == [False, True]
    assert frame_values(widgets.Text("x")) is None
    assert frame_values(widgets.Dropdown(options=["only"])) is None


class Counter(FigureWidget):
    """A small widget: a number drawn as text; ``size`` changes nothing (all frames alike)."""

    figsize = (2.0, 1.0)

    def __init__(self):
        super().__init__()
        self.n = widgets.IntSlider(value=3, min=0, max=5, description="n")
        self.colour = widgets.Dropdown(options=["black", "red"], value="black", description="colour")
        self.size = widgets.IntSlider(value=1, min=1, max=3, description="unused")
        self.name = widgets.Text("x", description="name")
        self._build_ui()
        self.update()

    def _controls(self):
        return [self.name, self.n, self.size, self.colour]

    def draw(self, figure):
        ax = figure.subplots()
        ax.text(0.5, 0.5, str(self.n.value), color=self.colour.value, fontsize=20)
        ax.set_axis_off()

    def state(self):
        return {"n": self.n.value, "colour": self.colour.value}


def test_frames_one_control_at_a_time_and_the_widget_is_restored():
    widget = Counter()
    before = widget.image.value
    frames = widget.frames()
    # main controls: the first two sliders/drop-downs (Text skipped); `size` draws nothing new
    assert list(frames) == ["n"]
    assert [label for label, _ in frames["n"]] == ["0", "1", "2", "3", "4", "5"]
    assert len({png for _, png in frames["n"]}) == 6
    assert widget.state() == {"n": 3, "colour": "black"} and widget.image.value == before
    Counter.frame_controls = ("colour", "n")
    try:
        assert list(Counter().frames()) == ["colour", "n"]
        assert Counter().frames(budget=0) == {}
    finally:
        Counter.frame_controls = None


def test_frames_ui_links_a_copy_of_each_control_to_a_stack_of_pictures(monkeypatch):
    monkeypatch.setattr(base, "_frame_bytes_used", 0)
    Counter.frame_controls = ("n", "colour")
    try:
        widget = Counter()
        box = widget.frames_ui()
    finally:
        Counter.frame_controls = None
    assert "coursekit-frames" in box._dom_classes
    note, chooser, outer = box.children
    assert isinstance(outer, widgets.Stack) and chooser.options == ("n", "colour")
    panel = outer.children[0]
    proxy, stack = panel.children
    assert isinstance(stack, widgets.Stack) and len(stack.children) == 6
    assert proxy.value == "3" and stack.selected_index == 3
    assert any(link.source == (proxy, "index") and link.target == (stack, "selected_index")
               for link in widget.frame_links)
    assert any(link.source == (chooser, "index") and link.target == (outer, "selected_index")
               for link in widget.frame_links)
    assert base._frame_bytes_used > 0  # the page's budget is shared


def test_training_widgets_and_nbval_runs_keep_the_frozen_view(monkeypatch):
    monkeypatch.delenv(base.FRAMES_ENV, raising=False)
    assert not base.frames_enabled()
    monkeypatch.setenv(base.FRAMES_ENV, "1")
    assert base.frames_enabled()

    class Trainer(base.BackgroundPlay, Counter):
        pass

    trainer = Trainer()
    trainer.n.value = 5  # "trained": a trainer's update() would reset it, so it is not called
    count = trainer.redraw_count
    assert trainer.frames() == {} and trainer.frames_ui() is trainer.ui
    assert trainer.redraw_count == count and trainer.n.value == 5


def test_make_execute_turns_frames_on_for_its_kernels_only(monkeypatch):
    from coursekit import execute
    from coursekit.utils import environment_for

    assert execute.FRAMES_ENV == base.FRAMES_ENV
    assert base.FRAMES_ENV not in environment_for("forced")  # what make test / nbval use
    captured = {}

    class FakeClient:
        def __init__(self, notebook, **kwargs):
            pass

        def execute(self, env):
            captured.update(env)

    monkeypatch.setattr(execute, "NotebookClient", FakeClient)
    monkeypatch.setattr(execute.nbformat, "write", lambda *a, **k: None)
    monkeypatch.setattr(execute.nbformat, "read", lambda *a, **k: type("N", (), {"metadata": {}})())
    monkeypatch.setattr(execute, "_kernelspec", lambda name: {})
    execute.execute_notebook("notebooks/04_convolutional_networks.ipynb")
    assert captured[base.FRAMES_ENV] == "1"
