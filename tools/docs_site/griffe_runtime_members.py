"""Griffe extension for the API reference: the public names that fastinit makes at import
time, taken from the imported module.

mkdocstrings reads the package by static analysis (griffe's default), which cannot see
what a module builds when it runs: the NumPy API's functions (made in fastinit._api, each
with its exact signature, and published as fastinit's own), fastinit.dask's (one per
scheme), and the named schemes of
fastinit.keras and fastinit.jax (classes and constructors made by a factory, their
docstrings filled in then).  For the modules listed, this imports the module, inspects
it (griffe.inspect) and puts in each public member that static analysis missed or saw only
as an attribute.  It follows griffe's guide "Inspecting specific objects".  Importing
fastinit.keras needs keras (KERAS_BACKEND chosen first) and fastinit.jax needs jax.
"""
import sys

import griffe

RUNTIME_MODULES = ("fastinit", "fastinit.dask", "fastinit.keras", "fastinit.jax")


class RuntimeMembers(griffe.Extension):
    def __init__(self, modules=RUNTIME_MODULES):
        super().__init__()
        self.modules = tuple(modules)

    def on_module_members(self, *, mod, agent, **kwargs):
        if not isinstance(agent, griffe.Visitor) or mod.path not in self.modules:
            return
        # import_paths: the whole sys.path (given a file, griffe imports with its directory
        # alone on the path, where the standard library's modules are not found)
        runtime = griffe.inspect(mod.path, import_paths=sys.path,
                                 docstring_parser=agent.docstring_parser,
                                 docstring_options=agent.docstring_options)
        for name, member in runtime.members.items():
            static = mod.members.get(name)
            # is_alias first: asking an alias anything else resolves it, too early here
            if name.startswith("_") or not (static is None or static.is_alias
                                            or static.is_attribute):
                continue
            if member.is_alias:
                # a second name for one of the module's own (glorot_normal is xavier_normal);
                # names imported from elsewhere are left to static analysis
                if member.target_path.rpartition(".")[0] == mod.path:
                    mod.set_member(name, griffe.Alias(name, member.target_path, parent=mod))
            elif member.is_function or member.is_class:
                mod.set_member(name, member)
