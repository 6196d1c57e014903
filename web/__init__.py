"""The Flask frontend: contestant pages, JSON APIs, organiser pages."""
