from __future__ import annotations

import sys

from pipeline.steps import main

sys.exit(main())
