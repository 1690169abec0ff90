"""`python -m bench.soak`: the soak (bench/soak/__init__.py says what it does)."""

import sys

from bench.soak.run import main

sys.exit(main())
