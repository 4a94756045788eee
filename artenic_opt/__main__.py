"""``python -m artenic_opt`` runs the same command tree as ``artenic-opt``."""

from artenic_opt.cli.main import main

if __name__ == "__main__":
    main()
