"""Shared pytest configuration for tests/.

`make test` runs pytest with --nbval over tests/ and notebooks/ together; the
notebooks under tests/ (e.g. adversarial submissions for the grader) are data,
never to be executed by nbval.
"""

collect_ignore_glob = ["*.ipynb", "**/*.ipynb"]
