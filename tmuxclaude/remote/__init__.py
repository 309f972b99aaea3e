"""Instances on other machines, reached with OpenSSH and the remote's own tclaude.

Nothing in this package is imported when no remote is configured: ``tclaude
list`` stays as fast as before for a user with one machine.
"""
