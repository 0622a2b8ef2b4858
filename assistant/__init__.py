"""lossdoctor's front ends: the command line, log triage, the interview and its terminal UI.

The knowledge and the search live in :mod:`kb`; this package turns them into commands.
"""

__version__ = "0.1.0"
