"""coursekit.nn is the NumPy reference: importing it must not pull in torch."""

import subprocess
import sys


def test_coursekit_nn_never_imports_torch():
    code = ("import sys, coursekit.nn, coursekit.nn.functional, coursekit.nn.autograd, "
            "coursekit.nn.lenet, coursekit.gradcheck; "
            "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"torch modules imported: {result.stdout} {result.stderr}"
