"""Public names of a package imported on first use (PEP 562).

``skdense`` and ``skdense.compare`` export names whose modules import
scikit-learn, pandas or TensorFlow; loading them lazily keeps ``import
skdense`` and ``skdense compare``'s argument checks fast.
"""


def attributes(package, namespace, names, exported):
    """``(__getattr__, __dir__)`` for ``package`` whose ``names`` maps a public
    name to the relative module that defines it (``"._estimators"``)."""

    def __getattr__(name):
        try:
            module = names[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        # __import__, not importlib.import_module: `python -X importtime` lists
        # only the modules that the import statement's machinery (this one) loads.
        target = module.lstrip(".")
        level = len(module) - len(target)
        value = getattr(__import__(target, namespace, None, [name], level), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__():
        return sorted(set(namespace) | set(exported))

    return __getattr__, __dir__
