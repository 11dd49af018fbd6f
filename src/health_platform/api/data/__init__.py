"""The data layer: a module per resource owns its queries (and, for observations, its
cache); `pages` reads a page of any of the lists. Routes validate, authorise and shape the
responses; they hold no SQL."""
