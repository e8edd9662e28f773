"""``python -m coursekit`` runs the ``coursekit`` command."""

import sys

from coursekit.cli import main

sys.exit(main())
