"""``python -m services.cut``: the same as ``fastseg cut``."""

from gevent import monkey

monkey.patch_all()

import sys

from services.cut import main

sys.exit(main())
