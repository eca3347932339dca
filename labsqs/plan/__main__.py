"""``python -m labsqs.plan`` = ``labsqs plan``."""

import sys

from labsqs.plan.command import main

sys.exit(main())
