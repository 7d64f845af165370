"""`python -m kit.kaggle.emulator --state DIR [--port N] [--port-file F]`: what the sandbox starts in the background."""

import sys

from kit.kaggle.emulator.server import main

sys.exit(main())
