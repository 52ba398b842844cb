"""Storage conformance: check a store of your own against the memory store.

Work in progress; see the modules.
"""
