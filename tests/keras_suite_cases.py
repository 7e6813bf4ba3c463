"""Keras's own initializer tests, as its wheel ships them
(keras/src/initializers/random_initializers_test.py and constant_initializers_test.py),
run against fastinit.keras on the backend KERAS_BACKEND names.

    KERAS_BACKEND=torch python tests/keras_suite_cases.py [pytest arguments]

Before collection, every Keras class that fastinit.keras replaces is replaced by
fastinit's under each name Keras resolves: the attributes of keras.initializers and
keras.src.initializers (which the test modules call) and keras.src.initializers's table
of names (so "lecun_normal", "OrthogonalInitializer" and the strings layers pass to
keras.initializers.get give fastinit's classes too).  The tests themselves are read from
the installed keras, never copied.  test_keras_suite.py runs this once per backend (the
name keeps plain `pytest tests` from collecting it).  Exit status and report are pytest's."""
import os
import sys
import types
from pathlib import Path

import pytest

KERAS_TEST_MODULES = ("random_initializers_test.py", "constant_initializers_test.py")

def substitute_fastinit_classes():
    """Every Keras initializer class that fastinit.keras replaces, replaced by fastinit's
    in keras.initializers, keras.src.initializers and its name table; returns
    {name: fastinit class} of the replaced module attributes."""
    import keras
    import keras.src.initializers as keras_src_initializers

    import fastinit.keras as fk

    replacements = {}
    for name in fk.__all__:
        ours, theirs = getattr(fk, name), getattr(keras.initializers, name, None)
        if isinstance(ours, type) and theirs is not None and ours is not theirs:
            replacements[theirs] = ours
    replaced = {}
    for module in (keras.initializers, keras_src_initializers):
        for name, value in list(vars(module).items()):
            if isinstance(value, type) and value in replacements:
                setattr(module, name, replacements[value])
                replaced[name] = replacements[value]
    table = keras_src_initializers.ALL_OBJECTS_DICT
    for name, value in list(table.items()):
        if value in replacements:
            table[name] = replacements[value]
    return replaced


def keras_conftest_module():
    """The one name Keras's test modules import from the conftest.py at the root of
    Keras's repository, which its wheel does not ship: skip_if_backend(backend, reason)."""
    from keras.src import backend

    def skip_if_backend(given_backend, reason):
        return pytest.mark.skipif(backend.backend() == given_backend, reason=reason)

    module = types.ModuleType("conftest")
    module.skip_if_backend = skip_if_backend
    return module


class FastinitSubstitution:
    """The pytest plugin: substitutes before collection, and says what it substituted."""

    def pytest_configure(self, config):
        if "conftest" in sys.modules:
            raise RuntimeError("a module named conftest is already imported: "
                               "Keras's test modules would import it instead")
        sys.modules["conftest"] = keras_conftest_module()
        self.replaced = substitute_fastinit_classes()

    def pytest_terminal_summary(self, terminalreporter):
        import keras
        terminalreporter.write_line(
            f"keras {keras.__version__} on {keras.backend.backend()}; fastinit.keras "
            f"substituted for: {' '.join(sorted(self.replaced))}")


def keras_test_files():
    import importlib.util
    # found, not imported: keras picks its backend on import, and pytest imports it later
    keras_dir = Path(importlib.util.find_spec("keras").submodule_search_locations[0])
    return [str(keras_dir / "src" / "initializers" / name) for name in KERAS_TEST_MODULES]


def main(argv):
    if "KERAS_BACKEND" not in os.environ:
        raise SystemExit("set KERAS_BACKEND (jax, torch or tensorflow)")
    return pytest.main([*keras_test_files(), "-p", "no:cacheprovider",
                        "--import-mode=importlib", *argv], plugins=[FastinitSubstitution()])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
