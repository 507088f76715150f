"""hoarfrost.server."""
