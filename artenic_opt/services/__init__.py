"""Use cases shared by the CLI and the dashboard: load from the state and catalog, call a pillar.

The pillars stay pure (schemas and arrays in, schemas out); these functions are the one place
that wires them to the state store, so the terminal table, the JSON output and the dashboard
always show the same numbers.
"""
