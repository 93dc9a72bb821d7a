"""Entry point of `python -m fleet`: wires the collectors into the orchestrator-agnostic CLI."""
import sys

from collectors import build_collector
from fleet.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], build_collector))
