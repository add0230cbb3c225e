"""The CDK app's constructs. The metric catalogue lives with the Lambdas (`lambdas/shared`), so the
code root is put on the import path here: infra and Lambdas import the very same module."""

import sys
from pathlib import Path

_LAMBDAS = str(Path(__file__).resolve().parent.parent / "lambdas")
if _LAMBDAS not in sys.path:
    sys.path.insert(0, _LAMBDAS)
