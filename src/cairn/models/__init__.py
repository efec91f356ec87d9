"""Model protocols (one per modality) and their packaged offline defaults."""
