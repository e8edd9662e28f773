"""Interactive widgets over ``coursekit.viz``; each also has ``render_static()`` for the website.

Every widget is a class whose controls are attributes (``w.lr.value = 0.1``
redraws), that displays itself in JupyterLab (``w`` as the last line of a cell)
and whose ``render_static()`` returns a matplotlib Figure of small multiples.
"""

from coursekit.widgets.activations import ActivationExplorer
from coursekit.widgets.optimizers import OptimizerRace
from coursekit.widgets.playground import Playground

__all__ = ["ActivationExplorer", "OptimizerRace", "Playground"]
