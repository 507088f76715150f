"""hoarfrost.engine."""
