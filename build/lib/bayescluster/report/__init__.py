"""Reports of saved runs.

A document model rendered to HTML and Markdown, the generic sections, and a hook through
which a study adds or replaces sections.
"""
