"""Problems: the model (model.py) and the package loaders (package.py, which lists the rest)."""
