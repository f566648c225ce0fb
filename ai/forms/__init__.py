"""Forms of the AI pages, one module per area (teacher's drafts, course assistant)."""
