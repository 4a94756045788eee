"""Adapter to the Artenic platform: an httpx client, parsed platform records, and ``sync``.

Only this package talks HTTP. ``client`` wraps the gateway's endpoints (contract:
``platform-api.md``), ``models`` holds the parsed platform records and the pure mapping from them
to the optimizer's own shapes (offerings, outcomes), and ``sync`` copies platform data into the
state store. Importing the package itself stays cheap: httpx loads with ``client``.
"""
