"""``python -m dynamicnet`` is the ``dynamicnet`` command."""

import sys

from .cli.main import main

sys.exit(main())
