from gevent import monkey

monkey.patch_all()

import sys  # noqa: I001 - after patching, as gevent asks

from services.cutter import main

sys.exit(main())
