"""Interactive widgets over ``coursekit.viz``; each also has ``render_static()`` for the website.

Every widget is a class whose controls are attributes (``w.lr.value = 0.1``
redraws), that displays itself in JupyterLab (``w`` as the last line of a cell)
and whose ``render_static()`` returns a matplotlib Figure of small multiples.

1. ``ActivationExplorer``  2. ``Playground``  3. ``OptimizerRace``
4. ``LossLandscape``  5. ``GradientFlow``  6. ``BackpropStepper``
7. ``ConvExplorer``  8. ``FeatureMaps``  9. ``LSTMGates``
10. ``LatentExplorer``  11. ``EmbeddingExplorer``  12. ``ReceptiveField``
13. ``DetectionExplorer``  14. ``AutoencoderExplorer``  15. ``GANTrainer``
"""

from coursekit.widgets.activations import ActivationExplorer
from coursekit.widgets.autoencoder import AutoencoderExplorer
from coursekit.widgets.backprop import BackpropStepper
from coursekit.widgets.conv import ConvExplorer
from coursekit.widgets.detection import DetectionExplorer
from coursekit.widgets.embedding import EmbeddingExplorer
from coursekit.widgets.features import FeatureMaps
from coursekit.widgets.gan import GANTrainer
from coursekit.widgets.gradient_flow import GradientFlow
from coursekit.widgets.landscape import LossLandscape
from coursekit.widgets.latent import LatentExplorer
from coursekit.widgets.optimizers import OptimizerRace
from coursekit.widgets.playground import Playground
from coursekit.widgets.receptive_field import ReceptiveField
from coursekit.widgets.recurrent import LSTMGates

__all__ = [
    "ActivationExplorer",
    "AutoencoderExplorer",
    "BackpropStepper",
    "ConvExplorer",
    "DetectionExplorer",
    "EmbeddingExplorer",
    "FeatureMaps",
    "GANTrainer",
    "GradientFlow",
    "LSTMGates",
    "LatentExplorer",
    "LossLandscape",
    "OptimizerRace",
    "Playground",
    "ReceptiveField",
]
