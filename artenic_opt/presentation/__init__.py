"""What the CLI and the dashboard share to show results to people: plain-text formatters.

Free of Rich and Textual (a test imports it in a subprocess and checks), so the libraries below the
user interfaces could use it too, and importing it costs nothing at start-up.
"""
