"""hoarfrost.packages."""
