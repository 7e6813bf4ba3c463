"""fastinit: fast, reproducible neural-network weight initialization on the CPU.

    import fastinit
    w = fastinit.xavier_uniform((4096, 4096), seed=0)   # float32, C-contiguous

Every value depends only on (seed, position, scheme): never on threads, CPU features or
how the tensor is split into regions.  See README.md and docs/stream.md.
"""
from . import bits
from ._api import (
    ACTIVATIONS, for_activation, glorot_normal, glorot_normal_, glorot_uniform, glorot_uniform_,
    he_normal, he_normal_, he_uniform, he_uniform_, kaiming_normal, kaiming_normal_,
    kaiming_uniform, kaiming_uniform_, lecun_normal, lecun_normal_, lecun_uniform, lecun_uniform_,
    normal, normal_, orthogonal, orthogonal_, seed, show_config, truncated_normal,
    truncated_normal_, uniform, uniform_, variance_scaling, variance_scaling_, xavier_normal,
    xavier_normal_, xavier_uniform, xavier_uniform_)
from ._core import available_isas, get_isa, set_isa
from ._fans import calculate_gain, compute_fans
from ._generator import Generator

__version__ = "0.1.0"


def default_rng(seed=None):
    """default_rng(seed=None) -> Generator(seed), as numpy.random.default_rng."""
    return Generator(seed)


__all__ = [
    "ACTIVATIONS", "Generator", "available_isas", "bits", "calculate_gain", "compute_fans",
    "default_rng", "for_activation", "get_isa", "glorot_normal", "glorot_normal_",
    "glorot_uniform", "glorot_uniform_", "he_normal", "he_normal_", "he_uniform", "he_uniform_",
    "kaiming_normal", "kaiming_normal_", "kaiming_uniform", "kaiming_uniform_", "lecun_normal",
    "lecun_normal_", "lecun_uniform", "lecun_uniform_", "normal", "normal_", "orthogonal",
    "orthogonal_", "seed", "set_isa", "show_config", "truncated_normal", "truncated_normal_",
    "uniform", "uniform_", "variance_scaling", "variance_scaling_", "xavier_normal",
    "xavier_normal_", "xavier_uniform", "xavier_uniform_",
]
