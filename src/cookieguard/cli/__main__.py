"""``python -m cookieguard.cli``, the same as the ``cookieguard`` command."""

from __future__ import annotations

import sys

from . import main

sys.exit(main())
