"""Run ctibot as `python -m ctibot`."""

import sys

from ctibot.cli import main

sys.exit(main())
