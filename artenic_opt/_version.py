"""The package version, in a module of its own so that adapters (the platform client's
User-Agent, ``status``) can read it without importing the package's public facade, which sits
above every layer."""

__version__ = "0.1.0"
