"""Authentication building blocks: password hashing and policy, tokens, login rate limiting.

Pure where it can be (no I/O, time passed in); the API layer wires these to the store.
"""
