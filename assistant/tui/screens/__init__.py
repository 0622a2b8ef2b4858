"""The screens of the TUI: the interview (the coordinator), help and attaching a log."""
