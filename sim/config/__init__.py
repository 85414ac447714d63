"""Reading scenario files: YAML with line numbers, strict validation, one line per mistake.
Imports only :mod:`sim.model` (for the parameter declarations)."""
