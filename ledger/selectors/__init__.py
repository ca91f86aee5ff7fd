"""Reads of the ledger: accounts with balances, journal entries, statements, reconciliation."""
