"""The raw generator, for checking the stream without fastinit's transforms:
philox4x32(counter, key, rounds=10) -> 4 uint32 words (Random123's Philox4x32-R), and
key_from_seed(seed) -> (k0, k1), the key fastinit derives from a seed."""
from ._core import philox4x32
from ._generator import _key_of, seed_sequence


def key_from_seed(seed):
    """key_from_seed(seed) -> (k0, k1) = SeedSequence(seed).generate_state(2, uint32)."""
    return _key_of(seed_sequence(seed))


__all__ = ["philox4x32", "key_from_seed"]
