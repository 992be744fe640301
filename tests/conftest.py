import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

# The CI helpers the tests use (.ci/student_edition.py, .ci/chapter_runs.py) import as modules.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / ".ci"))
