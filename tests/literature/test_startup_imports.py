"""Commands such as import_literature start without loading the heavy optional libraries.

textstat (with NLTK and SciPy) and SciPy's statistics took about 85 MB in every process, import
runs included (bench/ingest.py measured 208 MB before an import started, 122 MB after they were
imported only where used). A module-level import creeping back would bring that back silently.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("textstat", "nltk", "scipy", "matplotlib", "weasyprint")

PROBE = f"""
import json, sys
import django
django.setup()
from evidencepress.literature import importer  # what import_literature loads
print(json.dumps(sorted(name for name in {HEAVY!r} if name in sys.modules)))
"""


def test_django_start_up_and_the_importer_load_no_heavy_libraries() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "evidencepress.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_the_libraries_still_load_where_they_are_used() -> None:
    from evidencepress.core.readability import reading_level
    from evidencepress.evidence.synthesis import clopper_pearson

    level = reading_level("The cat sat on the mat. It was warm there.")
    assert level.sentences == 2 and level.words == 10
    low, high = clopper_pearson(1, 2)
    assert 0 < low < 0.5 < high < 1
