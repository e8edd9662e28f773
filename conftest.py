"""Repository-wide pytest configuration: the notebook checker (tests/nbcheck.py) is active in
every run, so `pytest --nbval notebooks/X.ipynb` compares numbers with declared tolerances."""

pytest_plugins = ["tests.nbcheck"]
