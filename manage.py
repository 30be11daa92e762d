#!/usr/bin/env python
"""Django's command-line utility for Skillmap."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from config.env import ConfigError

    try:
        # Load settings up front: Django would otherwise swallow the error and
        # report custom commands as unknown.
        settings.INSTALLED_APPS  # noqa: B018
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        sys.stderr.write(f"skillmap: configuration error: {exc}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
