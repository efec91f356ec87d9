"""Search: keyword (FTS5 BM25), dense vectors, entity-graph expansion, and their fusion."""
