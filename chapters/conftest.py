"""pytest configuration for the chapters (nbval).

The stored outputs were produced with TQDM_DISABLE=1 (see .ci/execute_notebooks.py), so the
kernels nbval starts must run with it too: a progress bar would add a stderr output that the
stored notebook does not have. Kernels inherit this process's environment.
"""

import os

os.environ["TQDM_DISABLE"] = "1"
