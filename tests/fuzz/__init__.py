"""Fuzz tests: mutated files, each family in one capped subprocess (see _memcap)."""
