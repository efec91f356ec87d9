"""Ingestion: loaders per format -> documents -> sentence-aware chunks with offsets."""
