import sys

from services.demo import main

sys.exit(main())
