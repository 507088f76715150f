"""Python packages from a customer's repository: the gateway (the only code that talks to it),
URL prefixes, policies, runtimes, resolution and installs with uv, locks and the environment
store. Imports only ``errors`` and ``config``.
"""
