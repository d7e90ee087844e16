"""The base class of every error caused by input a user can fix.

The command line prints these as one line and exits with status 2; library users can
catch them all with ``except dynamicnet.errors.DynamicNetError``.
"""


class DynamicNetError(Exception):
    """Bad input: a missing or damaged file, a wrong alpha, an inconsistent recipe..."""
