"""The automated pipeline: triggers, one run (validate → train → gate → promote), the watch loop."""
