"""The block function: fastinit.bits.philox4x32 is Random123's Philox4x32-R.

Reference data: tests/data/philox_kat_vectors.txt (Random123's known answers, see
tests/data/README.md).  The independent pure-Python Philox of conftest.py must itself
reproduce them before the other tests trust it."""
import pathlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fastinit

KAT_FILE = pathlib.Path(__file__).parent / "data" / "philox_kat_vectors.txt"


def read_kat_vectors(name):
    """(rounds, ctr, key, expected) of every `name` line: name R CTR... KEY... EXPECTED..."""
    vectors = []
    for line in KAT_FILE.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == name:
            words = [int(f, 16) for f in fields[2:]]
            vectors.append((int(fields[1]), words[0:4], words[4:6], words[6:10]))
    return vectors


PHILOX4X32_KAT = read_kat_vectors("philox4x32")
KAT_IDS = [f"R{r}-ctr{c[0]:08x}" for r, c, _, _ in PHILOX4X32_KAT]

word32 = st.integers(0, 2 ** 32 - 1)
counters = st.lists(word32, min_size=4, max_size=4)
keys = st.lists(word32, min_size=2, max_size=2)


def test_kat_file_has_the_six_philox4x32_vectors_for_7_and_10_rounds():
    # guards against a truncated copy silently shrinking the parametrized tests below
    assert sorted(r for r, _, _, _ in PHILOX4X32_KAT) == [7, 7, 7, 10, 10, 10]


@pytest.mark.parametrize("rounds, ctr, key, expected", PHILOX4X32_KAT, ids=KAT_IDS)
def test_philox4x32_reproduces_random123_known_answer(rounds, ctr, key, expected):
    out = fastinit.bits.philox4x32(ctr, key, rounds)
    assert out.dtype == np.uint32
    assert [int(x) for x in out] == expected


@pytest.mark.parametrize("rounds, ctr, key, expected", PHILOX4X32_KAT, ids=KAT_IDS)
def test_reference_philox_reproduces_random123_known_answer(philox_block, rounds, ctr, key,
                                                             expected):
    assert philox_block(ctr, key, rounds) == expected


def test_philox4x32_defaults_to_10_rounds():
    rounds, ctr, key, expected = next(v for v in PHILOX4X32_KAT if v[0] == 10)
    assert [int(x) for x in fastinit.bits.philox4x32(ctr, key)] == expected


@given(ctr=counters, key=keys)
def test_philox4x32_agrees_with_reference_on_any_counter_and_key(philox_block, ctr, key):
    assert [int(x) for x in fastinit.bits.philox4x32(ctr, key)] == philox_block(ctr, key)


@given(ctr=counters, key=keys, rounds=st.sampled_from([1, 2, 7, 10, 13, 16]))
def test_philox4x32_agrees_with_reference_for_any_round_count(philox_block, ctr, key, rounds):
    assert [int(x) for x in fastinit.bits.philox4x32(ctr, key, rounds)] == \
        philox_block(ctr, key, rounds)


@given(first=st.integers(0, 2 ** 128 - 8), key=keys)
def test_vectorized_reference_stream_is_the_reference_blocks(philox_block, stream_words,
                                                             first, key):
    # the NumPy form used for bulk checks, including its 64-bit carry, block by block
    words = stream_words(key, first, 5)
    for j in range(5):
        b = first + j
        ctr = [(b >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
        assert [int(x) for x in words[4 * j:4 * j + 4]] == philox_block(ctr, key)


def test_vectorized_reference_stream_carries_into_the_upper_words(philox_block, stream_words):
    key = (0x01234567, 0x89ABCDEF)
    for first in (2 ** 32 - 2, 2 ** 64 - 2, 2 ** 96 - 2):
        words = stream_words(key, first, 4)
        for j in range(4):
            b = first + j
            ctr = [(b >> (32 * i)) & 0xFFFFFFFF for i in range(4)]
            assert [int(x) for x in words[4 * j:4 * j + 4]] == philox_block(ctr, key)


@pytest.mark.parametrize("ctr, key", [([0, 0, 0, 0, 0], [0, 0]), ([0, 0, 0], [0, 0]),
                                      ([0, 0, 0, 0], [0]), ([0, 0, 0, 0], [0, 0, 0])])
def test_philox4x32_refuses_wrong_word_counts(ctr, key):
    with pytest.raises(ValueError, match="counter takes 4 words and key 2 words"):
        fastinit.bits.philox4x32(ctr, key)


@pytest.mark.parametrize("ctr, key", [([2 ** 32, 0, 0, 0], [0, 0]), ([0, 0, 0, -1], [0, 0]),
                                      ([0, 0, 0, 0], [0, 2 ** 32])])
def test_philox4x32_refuses_words_outside_32_bits(ctr, key):
    with pytest.raises(ValueError, match=r"must be in \[0, 2\*\*32\)"):
        fastinit.bits.philox4x32(ctr, key)


@pytest.mark.parametrize("rounds", [0, 17, -1])
def test_philox4x32_refuses_round_counts_outside_1_to_16(rounds):
    with pytest.raises(ValueError, match="rounds must be between 1 and 16"):
        fastinit.bits.philox4x32([0, 0, 0, 0], [0, 0], rounds)
