"""hoarfrost.sql."""
