"""``python -m nexus_sdk``: the same as the ``nexus-sdk`` command."""

from nexus_sdk.cli import main

if __name__ == "__main__":
    main()
