"""``python -m services.backup``: patch the standard library for gevent, then run."""

from services.runtime.patching import patch_all

patch_all()

import sys  # noqa: I001 - after patching, as gevent asks

from services.backup.command import main

sys.exit(main())
