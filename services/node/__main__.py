from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from services.node import main  # noqa: E402

sys.exit(main())
