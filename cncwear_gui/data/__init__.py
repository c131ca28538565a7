"""Loading, validating and flagging CNC experiment data (Qt-free)."""
