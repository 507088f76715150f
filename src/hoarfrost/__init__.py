"""hoarfrost."""
