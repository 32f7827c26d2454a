"""``python -m services.chat_archiver``: patch the standard library for gevent, then run."""

from services.runtime.patching import patch_all

patch_all()

import sys  # noqa: I001 - after patching

from services.chat_archiver import main

sys.exit(main())
