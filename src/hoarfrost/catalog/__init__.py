"""hoarfrost.catalog."""
