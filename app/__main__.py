"""``python -m app``: the same as the ``mediavault`` command."""

import sys

from app.cli import main

sys.exit(main())
