"""The widgets of the TUI, one per module, each named for the data it shows."""
