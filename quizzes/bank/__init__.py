"""The question bank: roadmap, items and their versions, validation, loading,
authoring, import/export, and quiz definitions. See docs/architecture.md."""
