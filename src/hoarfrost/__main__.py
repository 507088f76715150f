"""``python -m hoarfrost``: the same command line as the ``hoarfrost`` script."""

from hoarfrost.cli import main

if __name__ == "__main__":
    main()
