"""Great Expectations is imported without what the audits never use
(orchestration/quality/expectations.py: `_import_gx`): pyspark stays out,
and scipy.stats, which GX imports for distribution expectations no suite
here has, waits for its first use, then works as if imported normally."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from orchestration.quality.expectations import _import_gx

gx = _import_gx()
print(gx.expectations.ExpectColumnValuesToBeBetween.__name__)
print("pyspark loaded:", sys.modules.get("pyspark") is not None)
print("scipy.stats loaded:", "scipy.stats._stats_py" in sys.modules)
import scipy.stats
from scipy import stats
print(round(float(scipy.stats.entropy([0.5, 0.5])), 6), stats.norm.cdf(0.0))
print("scipy.stats loaded:", "scipy.stats._stats_py" in sys.modules)
"""


def test_gx_leaves_pyspark_out_and_scipy_stats_until_its_first_use(tmp_path):
    script = tmp_path / "gx_import.py"  # a file, not `python -c` (see _import_gx on pyspark's doctest runner)
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines() == [
        "ExpectColumnValuesToBeBetween",
        "pyspark loaded: False",
        "scipy.stats loaded: False",
        "0.693147 0.5",
        "scipy.stats loaded: True",
    ], done.stdout
