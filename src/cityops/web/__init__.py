"""Pages: the grid worker's phone app (and, next, the dispatcher's console)."""
