"""The raw generator, for checking the stream without fastinit's transforms:
philox4x32(counter, key, rounds=10) -> 4 uint32 words (Random123's Philox4x32-R), and
key_from_seed(seed) -> (k0, k1), the key fastinit derives from a seed, and normal_cdf(x),
normal_sf(x): the Phi(x) and 1 - Phi(x) behind the truncated normal's Phi(a), Phi(b)
(docs/stream.md)."""
from ._core import normal_cdf, normal_sf, philox4x32
from ._generator import _key_of, seed_sequence


def key_from_seed(seed):
    """key_from_seed(seed) -> (k0, k1) = SeedSequence(seed).generate_state(2, uint32)."""
    return _key_of(seed_sequence(seed))


__all__ = ["philox4x32", "key_from_seed", "normal_cdf", "normal_sf"]
