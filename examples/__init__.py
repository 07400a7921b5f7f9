"""Example applications that show cookieguard at work; run them with ``make demo``."""
