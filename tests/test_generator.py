"""fastinit.Generator: one stream drawn in successive, non-overlapping parts; state,
spawning, module-level seeding, determinism and thread-count independence."""
import threading

import numpy as np
import pytest

import fastinit
from fastinit import _core
from fastinit._generator import NewOutGenerator

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
DRAWS = {
    "uniform": dict(low=-2.0, high=3.0),
    "normal": dict(mean=0.5, std=2.0),
    "truncated_normal": dict(mean=-1.0, std=0.5, a=-1.5, b=2.5),
}


# ---------------------------------------------------------------- continuity

@pytest.mark.parametrize("n", [4, 16, 64, 1000])
def test_two_raw_draws_of_whole_blocks_are_one_draw_of_twice_as_many_words(n):
    g = fastinit.Generator(401)
    halves = np.concatenate([g.random_raw(n), g.random_raw(n)])
    assert halves.tobytes() == fastinit.Generator(401).random_raw(2 * n).tobytes()


def test_a_raw_draw_takes_whole_blocks_so_the_next_draw_skips_the_rest():
    g = fastinit.Generator(409)
    full = fastinit.Generator(409).random_raw(40)
    assert g.random_raw(5).tobytes() == full[:5].tobytes()      # block 0 and 1 word of 1
    assert g.random_raw(3).tobytes() == full[8:11].tobytes()    # starts at block 2
    assert g.random_raw(9).tobytes() == full[12:21].tobytes()   # block 3
    assert g.state["counter"] == 6


@DTYPES
@pytest.mark.parametrize("name", DRAWS)
def test_successive_draws_of_whole_blocks_continue_one_draw(name, dtype):
    # 8 elements fill whole blocks in both precisions, so three draws of 8 are one of 24
    g = fastinit.Generator(419)
    parts = [getattr(g, name)(8, dtype=dtype, **DRAWS[name]) for _ in range(3)]
    whole = getattr(fastinit, name)(24, dtype=dtype, seed=419, **DRAWS[name])
    assert np.concatenate(parts).tobytes() == whole.tobytes()


@DTYPES
@pytest.mark.parametrize("name", DRAWS)
@pytest.mark.parametrize("first", [1, 3, 5, 6, 13])
def test_generator_draw_is_the_module_functions_values_at_its_first_block(name, dtype, first):
    # a draw at block s reads words from 4 s on: elements 4 s.. (float32) or 2 s..
    # (float64) of a draw at block 0 with as many more elements
    g = fastinit.Generator(421)
    getattr(g, name)(first, dtype=dtype, **DRAWS[name])
    s = g.state["counter"]
    second = getattr(g, name)((3, 5), dtype=dtype, **DRAWS[name])
    skip = 4 * s if dtype == np.float32 else 2 * s
    from_block_0 = getattr(fastinit, name)(skip + 15, dtype=dtype, seed=421, **DRAWS[name])
    assert second.reshape(-1).tobytes() == from_block_0[skip:].tobytes()


def test_draws_of_different_kinds_share_one_stream():
    g = fastinit.Generator(431)
    a = g.uniform(6)                                  # blocks 0-1
    b = g.normal(3, dtype=np.float64)                 # blocks 2-3
    c = g.truncated_normal((4, 4), a=-1.0, b=1.0)     # blocks 4-7
    assert g.state["counter"] == 8
    h = fastinit.Generator(431)
    assert h.uniform(8)[:6].tobytes() == a.tobytes()
    assert h.normal(4, dtype=np.float64)[:3].tobytes() == b.tobytes()
    assert h.truncated_normal((4, 4), a=-1.0, b=1.0).tobytes() == c.tobytes()


# ---------------------------------------------------------------- state

def test_state_names_the_bit_generator_key_and_next_block():
    g = fastinit.Generator(433)
    g.random_raw(10)
    state = g.state
    k = np.random.SeedSequence(433).generate_state(2, dtype=np.uint32)
    assert state == {"bit_generator": "Philox4x32-10", "key": (int(k[0]), int(k[1])),
                     "counter": 3}


@DTYPES
@pytest.mark.parametrize("name", DRAWS)
def test_restoring_a_saved_state_reproduces_the_following_draws(name, dtype):
    g = fastinit.Generator(439)
    g.normal(7)
    saved = g.state
    first = getattr(g, name)((5, 3), dtype=dtype, **DRAWS[name])
    g.uniform(100)
    g.state = saved
    assert getattr(g, name)((5, 3), dtype=dtype, **DRAWS[name]).tobytes() == first.tobytes()


def test_state_moves_to_another_generator():
    g, h = fastinit.Generator(443), fastinit.Generator(449)
    g.random_raw(12)
    h.state = g.state
    assert h.random_raw(20).tobytes() == g.random_raw(20).tobytes()


def test_state_of_an_exhausted_generator_can_be_restored():
    # drawing the last block leaves the counter at 2**128; the state read back must be
    # accepted again, as numpy's bit generators accept their own state
    g = fastinit.Generator(457)
    g.state = {"key": (1, 2), "counter": 2 ** 128 - 1}
    g.random_raw(4)
    saved = g.state
    h = fastinit.Generator(0)
    h.state = saved
    assert h.state == saved
    with pytest.raises(OverflowError, match="exhausted"):
        h.random_raw(4)


def test_a_draw_past_block_2_to_the_128_is_refused_and_takes_nothing():
    g = fastinit.Generator(461)
    g.state = {"key": (1, 2), "counter": 2 ** 128 - 1}
    with pytest.raises(OverflowError, match="exhausted"):
        g.normal(5)                                   # 2 blocks, only 1 left
    assert g.state["counter"] == 2 ** 128 - 1
    g.normal(4)                                       # the last block is still there
    assert g.state["counter"] == 2 ** 128


@pytest.mark.parametrize("bad, error", [
    ({"key": (1, 2, 3), "counter": 0}, ValueError),
    ({"key": (2 ** 32, 0), "counter": 0}, ValueError),
    ({"key": (1, 2), "counter": -1}, ValueError),
    ({"key": (1, 2), "counter": 2 ** 129}, ValueError),
    ({"key": (1, 2)}, ValueError),
    ({"key": (1, 2), "counter": 0, "bit_generator": "PCG64"}, ValueError),
    ({"key": (1.5, 2), "counter": 0}, TypeError),
    ([1, 2, 0], TypeError),
])
def test_a_malformed_state_is_refused_and_changes_nothing(bad, error):
    g = fastinit.Generator(463)
    g.random_raw(4)
    before = g.state
    with pytest.raises(error, match="state"):
        g.state = bad
    assert g.state == before


# ---------------------------------------------------------------- spawning and seeding

def test_spawned_children_have_the_seed_sequence_children_keys():
    children = fastinit.Generator(467).spawn(4)
    for i, child in enumerate(children):
        k = np.random.SeedSequence(467).spawn(4)[i].generate_state(2, dtype=np.uint32)
        assert child.state["key"] == (int(k[0]), int(k[1]))
        assert child.state["counter"] == 0


def test_spawned_children_have_distinct_keys_and_different_streams():
    parent = fastinit.Generator(479)
    children = parent.spawn(5)
    keys = {c.state["key"] for c in children} | {parent.state["key"]}
    assert len(keys) == 6
    streams = [c.random_raw(64).tobytes() for c in children] + [parent.random_raw(64).tobytes()]
    assert len(set(streams)) == 6


def test_spawning_again_gives_new_children_as_seed_sequence_does():
    parent = fastinit.Generator(487)
    first, second = parent.spawn(2), parent.spawn(2)
    assert {c.state["key"] for c in first}.isdisjoint({c.state["key"] for c in second})


def test_spawn_of_zero_is_empty():
    assert fastinit.Generator(491).spawn(0) == []


def test_default_rng_is_a_generator_of_that_seed():
    g = fastinit.default_rng(499)
    assert isinstance(g, fastinit.Generator)
    assert g.normal(10).tobytes() == fastinit.Generator(499).normal(10).tobytes()


def test_a_seed_sequence_seeds_like_its_generate_state():
    ss = np.random.SeedSequence(503)
    k = ss.generate_state(2, dtype=np.uint32)
    assert fastinit.Generator(ss).state["key"] == (int(k[0]), int(k[1]))
    assert fastinit.normal(8, seed=np.random.SeedSequence(503)).tobytes() == \
        fastinit.normal(8, seed=503).tobytes()


def test_numpy_integer_seeds_equal_python_int_seeds():
    assert fastinit.normal(8, seed=np.int64(509)).tobytes() == \
        fastinit.normal(8, seed=509).tobytes()
    assert fastinit.Generator(np.uint32(509)).state == fastinit.Generator(509).state


def test_module_seed_makes_calls_without_seed_reproducible():
    fastinit.seed(521)
    first = [fastinit.normal(10), fastinit.xavier_uniform((4, 5)), fastinit.uniform(3)]
    fastinit.seed(521)
    again = [fastinit.normal(10), fastinit.xavier_uniform((4, 5)), fastinit.uniform(3)]
    for a, b in zip(first, again):
        assert a.tobytes() == b.tobytes()
    # and they are Generator(521)'s successive draws
    g = fastinit.Generator(521)
    assert first[0].tobytes() == g.normal(10).tobytes()
    assert first[1].tobytes() == g.xavier_uniform((4, 5)).tobytes()


def test_calls_without_seed_draw_successive_parts_of_the_module_stream():
    fastinit.seed(523)
    a, b = fastinit.normal(100), fastinit.normal(100)
    assert a.tobytes() != b.tobytes()


def test_calls_without_seed_and_without_reseeding_differ_from_call_to_call():
    seen = {fastinit.normal(64).tobytes() for _ in range(5)}
    assert len(seen) == 5


def test_generators_without_seed_draw_fresh_os_entropy():
    # two 64-bit keys from the OS collide with probability 2**-64
    assert fastinit.Generator().state["key"] != fastinit.Generator().state["key"]


def test_module_seed_none_reseeds_from_os_entropy():
    fastinit.seed(None)
    a = fastinit.normal(64)
    fastinit.seed(None)
    assert fastinit.normal(64).tobytes() != a.tobytes()


# ---------------------------------------------------------------- determinism

# name -> (call(generator, shape, **keywords), a small shape, a shape of >= 2**19 elements
# so that up to 4 threads really take a part each)
SCHEME_CALLS = {
    "normal": (lambda g, s, **k: g.normal(s, 0.1, 2.0, **k), (300, 200), (1024, 640)),
    "uniform": (lambda g, s, **k: g.uniform(s, -1.0, 1.0, **k), (300, 200), (1024, 640)),
    "truncated_normal": (lambda g, s, **k: g.truncated_normal(s, 0.0, 1.0, -1.0, 2.0, **k),
                         (300, 200), (1024, 640)),
    "xavier_uniform": (lambda g, s, **k: g.xavier_uniform(s, **k),
                       (3, 3, 64, 128), (3, 3, 256, 256)),
    "he_normal": (lambda g, s, **k: g.he_normal(s, truncated=True, layout="torch", **k),
                  (128, 64, 3, 3), (256, 256, 3, 3)),
    "orthogonal": (lambda g, s, **k: g.orthogonal(s, gain=2.0, **k), (96, 64), (96, 64)),
}


@DTYPES
@pytest.mark.parametrize("name", SCHEME_CALLS)
def test_same_seed_gives_the_same_bytes(name, dtype):
    call, shape, _ = SCHEME_CALLS[name]
    a = call(fastinit.Generator(541), shape, dtype=dtype)
    b = call(fastinit.Generator(541), shape, dtype=dtype)
    assert a.tobytes() == b.tobytes()


@DTYPES
@pytest.mark.parametrize("name", SCHEME_CALLS)
def test_different_seeds_give_different_values(name, dtype):
    call, shape, _ = SCHEME_CALLS[name]
    a = call(fastinit.Generator(547), shape, dtype=dtype)
    b = call(fastinit.Generator(557), shape, dtype=dtype)
    assert np.count_nonzero(a == b) < a.size // 100


@DTYPES
@pytest.mark.parametrize("name", SCHEME_CALLS)
def test_thread_count_does_not_change_the_bytes(name, dtype):
    call, _, shape = SCHEME_CALLS[name]
    reference = call(fastinit.Generator(563), shape, dtype=dtype, threads=1)
    for threads in (2, 3, 7):
        got = call(fastinit.Generator(563), shape, dtype=dtype, threads=threads)
        assert got.tobytes() == reference.tobytes(), f"threads={threads}"


@pytest.mark.parametrize("threads", [2, 3, 7])
def test_thread_count_does_not_change_raw_words(threads):
    n = 2 ** 20 + 5
    reference = fastinit.Generator(569).random_raw(n, threads=1)
    assert fastinit.Generator(569).random_raw(n, threads=threads).tobytes() == \
        reference.tobytes()


def test_concurrent_draws_from_one_generator_take_distinct_blocks():
    # "safe to share between threads": every call reserves its own blocks, so 4 threads
    # x 500 one-block draws use blocks 0..1999, each exactly once
    g = fastinit.Generator(571)
    results = [[] for _ in range(4)]

    def draw(out):
        for _ in range(500):
            out.append(g.random_raw(4).tobytes())

    workers = [threading.Thread(target=draw, args=(r,)) for r in results]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    blocks = [b for r in results for b in r]
    expected = fastinit.Generator(571).random_raw(4 * 2000).reshape(2000, 4)
    assert sorted(blocks) == sorted(row.tobytes() for row in expected)
    assert g.state["counter"] == 2000


# ---------------------------------------------------------------- an out= known to be new

def record_out_is_new(monkeypatch):
    """The out_is_new flag of every _core.fill from now on, in call order."""
    flags, fill = [], _core.fill

    def recording_fill(*args):
        flags.append(args[-1])
        return fill(*args)
    monkeypatch.setattr(_core, "fill", recording_fill)
    return flags


@DTYPES
@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal", "xavier_uniform",
                                  "he_normal"])
def test_an_out_known_to_be_new_is_filled_as_a_new_array_with_the_same_bits(name, dtype,
                                                                           monkeypatch):
    """NewOutGenerator (fastinit.jax's eager path) fills its out= as a new array, where a
    Generator takes an out= for memory in use (non-temporal stores from 8 MiB on, where the
    CPU gains from them); the store kind never changes the values or the stream's counter."""
    call = SCHEME_CALLS[name][0]
    shape = (2048, 1280)           # 10 MiB of float32: existing outs may get non-temporal stores
    flags = record_out_is_new(monkeypatch)
    fresh_generator = NewOutGenerator(577)
    fresh = np.empty(shape, dtype)
    assert call(fresh_generator, shape, dtype=dtype, out=fresh, threads=2) is fresh
    new = call(fastinit.Generator(577), shape, dtype=dtype, threads=2)
    existing = np.zeros(shape, dtype)
    call(fastinit.Generator(577), shape, dtype=dtype, out=existing, threads=2)
    assert flags == [True, True, False]
    assert fresh.tobytes() == new.tobytes() == existing.tobytes()
    assert fresh_generator.state == {**fastinit.Generator(577).state, "counter":
                                     -(-fresh.size * fresh.itemsize // 16)}
