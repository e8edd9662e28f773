"""The instructor secret: hidden test inputs and held-out data nobody can reproduce.

The repository is public: ``solutions/*/tests.py``, the reference answers and
``coursekit.data`` are on every student's machine. So hidden inputs and held-out
data are drawn, at ``coursekit assign`` time, from a generator seeded with a secret
only the instructor knows::

    from coursekit.grading import secret_rng

    rng = secret_rng("q3")                      # a np.random.Generator
    X_hidden = rng.normal(size=(50, 4))
    seed = int(secret_rng("heldout").integers(2**31))   # e.g. for a data loader

``secret_rng(*names)`` is seeded from SHA-256 of (secret, assignment name,
names): the same secret gives the same inputs on every machine, another secret
other inputs, and two different ``names`` independent streams.

Where the secret comes from, first match wins:

1. ``coursekit assign --secret-file FILE`` (the file's text, surrounding white
   space removed);
2. the ``COURSEKIT_SECRET`` environment variable;
3. a public default (``PUBLIC_DEFAULT``): anyone can reproduce the hidden inputs,
   so ``assign`` says it is fit only for self-study.

Never commit the secret. What is drawn from it lives only in the grading bundle
(``build/grading/``, git-ignored, mode 0600); the grading child runs with a clean
environment (no ``COURSEKIT_SECRET``) and cannot read the bundle or the secret file.
Public tests must not use ``secret_rng``: their inputs ship with the package and the
committed ``exercises/`` must not change with the secret (``assign`` checks this).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

SECRET_ENV = "COURSEKIT_SECRET"
PUBLIC_DEFAULT = "coursekit-public-default-secret (fit only for self-study)"
PUBLIC_NOTICE = (
    "no instructor secret given (--secret-file FILE or the COURSEKIT_SECRET environment "
    "variable): hidden test inputs and held-out data are drawn from the public default "
    "secret, which anyone can reproduce. Fine for self-study; to grade for credit, "
    "assign again with a secret of your own (and keep solutions/ in a private repository).")

# set by ``coursekit assign`` while it imports a tests.py (see ``using``)
_active: dict = {"secret": None, "assignment": None}


def _check_secret(secret: str, where: str) -> str:
    if not isinstance(secret, str):
        raise TypeError(f"the secret must be text, got {type(secret).__name__}")
    secret = secret.strip()
    if not secret:
        raise ValueError(f"the instructor secret from {where} is empty: put a long random "
                         "string in it (e.g. `python -c \"import secrets; "
                         "print(secrets.token_hex(32))\"`)")
    return secret


def read_secret_file(path) -> str:
    """The secret in ``path`` (surrounding white space removed); clear errors if unusable."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--secret-file {path}: no such file (create one with "
                         "`python -c \"import secrets; print(secrets.token_hex(32))\" > FILE`, "
                         "outside the repository)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--secret-file {path}: cannot read it as UTF-8 text ({error})") from None
    return _check_secret(text, f"--secret-file {path}")


def resolve_secret(secret_file=None, environ=None) -> tuple[str, str]:
    """``(secret, source)``: source is ``"file"``, ``"environment"`` or ``"public default"``."""
    if secret_file is not None:
        return read_secret_file(secret_file), "file"
    environ = os.environ if environ is None else environ
    if environ.get(SECRET_ENV) is not None:
        return _check_secret(environ[SECRET_ENV], f"${SECRET_ENV}"), "environment"
    return PUBLIC_DEFAULT, "public default"


def secret_id(secret: str) -> str:
    """A short public fingerprint of a secret (tells two assigns apart; reveals nothing)."""
    return hashlib.sha256(b"coursekit secret id\0" + secret.encode("utf-8")).hexdigest()[:12]


@contextlib.contextmanager
def using(secret: str, assignment: str | None = None):
    """Within the block, ``secret_rng`` uses ``secret`` (and the assignment's name)."""
    previous = dict(_active)
    _active.update(secret=_check_secret(secret, "the caller"), assignment=assignment)
    try:
        yield
    finally:
        _active.clear()
        _active.update(previous)


def current() -> tuple[str, str | None]:
    """``(secret, assignment)`` that ``secret_rng`` would use now."""
    if _active["secret"] is not None:
        return _active["secret"], _active["assignment"]
    return resolve_secret()[0], None


def secret_rng(*names) -> np.random.Generator:
    """A NumPy generator seeded from SHA-256 of (instructor secret, assignment, ``names``).

    ``names`` are strings or integers that tell streams apart (``secret_rng("q3")``,
    ``secret_rng("heldout", 2)``); call it once per stream and draw everything of that
    stream from the generator it returns. Use it for hidden tests only.
    """
    for name in names:
        if type(name) not in (str, int):
            raise TypeError(f"secret_rng names must be strings or integers (e.g. "
                            f"secret_rng('q3')), got {name!r:.60}")
    secret, assignment = current()
    material = json.dumps([secret, assignment, list(names)], ensure_ascii=False)
    digest = hashlib.sha256(material.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))
