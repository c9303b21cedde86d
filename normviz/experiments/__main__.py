"""``python -m normviz.experiments``: list the experiments or precompute their shipped results."""
import sys

from normviz.experiments.precompute import main

sys.exit(main())
