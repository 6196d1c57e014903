"""Problems: the model (model.py) and the package loaders (package.py)."""
