"""Spiders stay thin: they follow links and hand pages to pure extraction functions."""
