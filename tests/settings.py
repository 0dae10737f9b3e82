"""The project's own settings for the test run, with a private VAR_DIR.

The embedded default writes its generated secrets into VAR_DIR (healthspace/local_secrets.py):
the test run uses a fresh temporary folder instead of the checkout's var/, removed at exit.
Everything else is healthspace/settings.py unchanged.
"""

import atexit
import os
import shutil
import tempfile

if not os.environ.get("HEALTHSPACE_VAR_DIR"):
    _var_dir = tempfile.mkdtemp(prefix="healthspace-tests-var-")
    os.environ["HEALTHSPACE_VAR_DIR"] = _var_dir
    atexit.register(shutil.rmtree, _var_dir, ignore_errors=True)

from healthspace.settings import *  # noqa: F403
