"""Ingest: files in, validated canonical rows stored (customers, orders, products, partners)."""
