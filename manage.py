#!/usr/bin/env python
"""Django's command-line utility for msp-ops."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msp_ops.settings")
    from django.core.management import execute_from_command_line

    from msp_ops.lib.envparse import SettingError

    try:
        execute_from_command_line(sys.argv)
    except SettingError as error:  # a variable of the environment: its one line, no traceback
        sys.exit(f"msp-ops: {error}")


if __name__ == "__main__":
    main()
