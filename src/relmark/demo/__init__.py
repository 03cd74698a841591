"""A realistic, deterministic sample store: six locales, a buy-till-you-die order history,
partners, consents, a second source with planted duplicates, support contacts and mentions."""
