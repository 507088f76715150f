"""Snowflake SQL text: splitting and tokenizing, our own statements parsed into AST values
(:mod:`ast`), and ordinary SQL translated to DuckDB with sqlglot.

Imports only ``errors``; everything above receives what it parses already parsed.
"""
