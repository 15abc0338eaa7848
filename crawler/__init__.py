"""Crawling: sources, spiders, extraction, dates, dedup and the storage pipeline."""
