"""hoarfrost.workers."""
