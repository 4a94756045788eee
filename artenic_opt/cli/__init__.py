"""Typer command tree: parse input, call one library function, render the result."""
