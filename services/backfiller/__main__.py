"""``python -m services.backfiller``: patch the standard library for gevent, then run."""

from services.runtime.patching import patch_all

patch_all()

import sys  # noqa: I001

from services.backfiller import main

sys.exit(main())
