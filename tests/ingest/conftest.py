"""The fault tests (test_faults_http.py) reuse each source's test helpers by module name
(`import test_cloudtrail`). pytest puts a test file's folder on sys.path only when it collects
that folder, so run alone they found nothing: the four source folders go on the path here."""

from __future__ import annotations

import sys
from pathlib import Path

for _source in ("cloudtrail", "cost", "invocation_logs", "metrics"):
    _folder = str(Path(__file__).parent / _source)
    if _folder not in sys.path:
        sys.path.insert(0, _folder)
