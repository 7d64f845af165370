"""Notebook cells every kit kernel shares, defined once: the first cell of a pack's kernel notebook.

`INSTALL` starts the clock the time guard (or the served kernel's time banking) counts from, then imports the kit,
installing it offline from the attached wheels dataset when the image lacks it (a fresh Kaggle image always does):
the dataset is found under the 2025-26 layout, the 2024 layout, then by a bounded search for its manifest, and pip's
output is printed into the kernel's log. Plain Python only: it runs before the kit exists in the kernel.
"""

INSTALL = '''\
import time

_kit_t0 = time.time()  # the time guard counts from here: installs and model load use the budget too
import glob
import importlib
import json
import os
import subprocess
import sys

try:
    import kit
except ImportError:  # a fresh image: find the wheels dataset (2025-26 layout, 2024 layout, a bounded search)
    _o, _s = (sources.get("wheels", "").split("/") + ["", ""])[:2]
    _found = [d for d in (f"{input_dir}/datasets/{_o}/{_s}", f"{input_dir}/{_s}") if _s] + sorted(
        os.path.dirname(m) for n in range(1, 6) for m in glob.glob(input_dir + "/*" * n + "/manifest.json"))
    _wheels = next((d for d in _found if glob.glob(d + "/kaggle_kit-*.whl")), None)
    if _wheels is None:
        raise ImportError(f"wheels dataset {sources.get('wheels')!r} not found: {input_dir} holds "
                          f"{sorted(os.listdir(input_dir)) if os.path.isdir(input_dir) else 'nothing'}")
    _no_deps = ["--no-deps"] if json.load(open(_wheels + "/manifest.json")).get("kit_only") else []
    print("installing kaggle-kit offline from", _wheels, *_no_deps)
    _pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--find-links", _wheels,
                           *_no_deps, "kaggle-kit"], capture_output=True, text=True)
    print(_pip.stdout[-1500:] + _pip.stderr[-1500:])
    _pip.check_returncode()
    importlib.invalidate_caches()
    import kit
print("kit", kit.__version__, "from", os.path.dirname(kit.__file__))
'''
