"""``python -m cncwear_gui.cli``: the ``cncwear`` command."""

import sys

from . import main

sys.exit(main())
