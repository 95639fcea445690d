"""The history seeder's parts: a day-by-day simulation in memory streaming rows to the database.

`erpcore.seed.seed` is the entry point; see its docstring.
"""
