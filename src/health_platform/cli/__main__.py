"""`python -m health_platform.cli`: `hp` without its console script (the tests run it so)."""

import sys

from health_platform.cli import main

sys.exit(main())
