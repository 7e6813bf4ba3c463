"""fastinit.jax with out_sharding over 8 host devices.  XLA fixes the device count when jax
starts, so test_in_subprocesses.py runs this module in its own process with
XLA_FLAGS=--xla_force_host_platform_device_count=8 (the name keeps plain `pytest tests`
from collecting it in the main process)."""
import numpy as np
import pytest

jax = pytest.importorskip("jax")
from jax.sharding import NamedSharding, PartitionSpec as P   # noqa: E402

import fastinit                                              # noqa: E402
import fastinit.jax as fj                                    # noqa: E402
from fastinit._generator import NewOutGenerator             # noqa: E402

SHAPE = (64, 48)

MESHES = {"1d": ((8,), ("x",)), "2d": ((4, 2), ("x", "y"))}
SPECS = {
    "1d": {"rows": P("x", None), "columns": P(None, "x"), "replicated": P(None, None)},
    "2d": {"rows": P("x", None), "columns": P(None, "y"), "both": P("x", "y"),
           "both_transposed": P("y", "x"), "rows_over_both": P(("x", "y"), None)},
}
CASES = [(m, s) for m in SPECS for s in SPECS[m]]


def make_mesh(name):
    shape, axes = MESHES[name]
    return jax.make_mesh(shape, axes)


def test_eight_host_devices():
    assert len(jax.devices()) == 8


@pytest.fixture
def recorded_calls(monkeypatch):
    """Every draw fastinit.jax makes (a NumPy API scheme of its NewOutGenerator): (region,
    shape of what it returned)."""
    calls = []
    for name in ("variance_scaling", "uniform", "normal", "truncated_normal"):
        original = getattr(NewOutGenerator, name)

        def recorder(self, *args, _original=original, **kwargs):
            result = _original(self, *args, **kwargs)
            calls.append((kwargs.get("region"), result.shape))
            return result
        monkeypatch.setattr(NewOutGenerator, name, recorder)
    return calls


@pytest.mark.parametrize("mesh_name, spec_name", CASES)
def test_sharded_result_has_that_sharding_and_the_unsharded_bits(mesh_name, spec_name):
    sharding = NamedSharding(make_mesh(mesh_name), SPECS[mesh_name][spec_name])
    init = fj.he_normal()
    key = jax.random.key(5)
    sharded = init(key, SHAPE, out_sharding=sharding)
    assert sharded.sharding == sharding
    full = fastinit.variance_scaling(SHAPE, 2.0, "fan_in", "truncated_normal", seed=5)
    np.testing.assert_array_equal(np.asarray(sharded), full)
    np.testing.assert_array_equal(np.asarray(sharded), np.asarray(init(key, SHAPE)))
    for shard in sharded.addressable_shards:
        np.testing.assert_array_equal(np.asarray(shard.data), full[shard.index])


@pytest.mark.parametrize("mesh_name, spec_name", CASES)
def test_each_shard_is_generated_alone_as_a_region(mesh_name, spec_name, recorded_calls):
    sharding = NamedSharding(make_mesh(mesh_name), SPECS[mesh_name][spec_name])
    init = fj.glorot_uniform()
    recorded_calls.clear()              # the constructor's own argument check
    init(jax.random.key(1), SHAPE, out_sharding=sharding)
    shard_shape = sharding.shard_shape(SHAPE)
    assert recorded_calls, "no shard was drawn through the NumPy API's schemes"
    for region, made in recorded_calls:
        assert region is not None and made == shard_shape
    if shard_shape != SHAPE:
        assert all(made != SHAPE for _, made in recorded_calls)


@pytest.mark.parametrize("make", [fj.uniform, fj.normal, fj.truncated_normal, fj.lecun_uniform,
                                  fj.glorot_normal, fj.orthogonal])
def test_every_initializer_shards_without_changing_a_bit(make):
    sharding = NamedSharding(make_mesh("2d"), P("x", "y"))
    init = make()
    key = jax.random.key(77)
    sharded = init(key, SHAPE, out_sharding=sharding)
    assert sharded.sharding == sharding
    np.testing.assert_array_equal(np.asarray(sharded), np.asarray(init(key, SHAPE)))


def test_conv_kernel_sharded_over_its_output_channels():
    shape = (3, 3, 16, 32)
    sharding = NamedSharding(make_mesh("1d"), P(None, None, None, "x"))
    init = fj.he_uniform()
    sharded = init(jax.random.key(2), shape, out_sharding=sharding)
    assert sharded.sharding == sharding
    np.testing.assert_array_equal(np.asarray(sharded), np.asarray(init(jax.random.key(2), shape)))


def test_inside_a_mesh_context_named_sharding_and_partition_spec():
    mesh = make_mesh("2d")
    init = fj.glorot_uniform()
    key = jax.random.key(3)
    want = np.asarray(init(key, SHAPE))
    with jax.set_mesh(mesh):
        by_spec = init(key, SHAPE, out_sharding=P("x", "y"))
        by_named = init(key, SHAPE, out_sharding=NamedSharding(mesh, P(None, "y")))
    assert by_spec.sharding == NamedSharding(mesh, P("x", "y"))
    assert by_named.sharding == NamedSharding(mesh, P(None, "y"))
    np.testing.assert_array_equal(np.asarray(by_spec), want)
    np.testing.assert_array_equal(np.asarray(by_named), want)


def test_inside_jit_the_sharding_is_honoured_and_the_bits_kept():
    # jit with a mesh of explicit axes runs inside jax.set_mesh, as JAX asks of its own
    mesh = make_mesh("2d")
    sharding = NamedSharding(mesh, P("x", "y"))
    init = fj.lecun_normal()
    key = jax.random.key(4)
    with jax.set_mesh(mesh):
        jitted = jax.jit(lambda k: init(k, SHAPE, out_sharding=sharding))(key)
    assert jitted.sharding == sharding
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(init(key, SHAPE)))


def test_inside_jit_a_mesh_of_auto_axes_needs_no_context():
    shape, axes = MESHES["2d"]
    mesh = jax.make_mesh(shape, axes, axis_types=(jax.sharding.AxisType.Auto,) * 2)
    sharding = NamedSharding(mesh, P(None, "y"))
    init = fj.glorot_normal()
    key = jax.random.key(6)
    jitted = jax.jit(lambda k: init(k, SHAPE, out_sharding=sharding))(key)
    assert jitted.sharding == sharding
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(init(key, SHAPE)))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_shards_keep_the_bits(dtype):
    sharding = NamedSharding(make_mesh("2d"), P("x", "y"))
    init = fj.glorot_normal()
    key = jax.random.key(8)
    sharded = init(key, SHAPE, jax.numpy.dtype(dtype), out_sharding=sharding)
    assert sharded.sharding == sharding and sharded.dtype == jax.numpy.dtype(dtype)
    want = fastinit.glorot_normal(SHAPE, truncated=True, dtype=dtype, seed=8)
    np.testing.assert_array_equal(np.asarray(sharded).astype(np.float32), want.astype(np.float32))


# ---------------------------------------------------------------- jit: one callback per shard

@pytest.mark.parametrize("mesh_name, spec_name", CASES)
def test_inside_jit_each_device_makes_its_shard_alone_as_a_region(mesh_name, spec_name,
                                                                 recorded_calls):
    mesh = make_mesh(mesh_name)
    sharding = NamedSharding(mesh, SPECS[mesh_name][spec_name])
    init = fj.glorot_uniform()
    key = jax.random.key(12)
    recorded_calls.clear()              # the constructor's own argument check
    with jax.set_mesh(mesh):
        jitted = jax.jit(lambda k: init(k, SHAPE, out_sharding=sharding))(key)
    jitted.block_until_ready()          # the callbacks have all run
    assert jitted.sharding.is_equivalent_to(sharding, len(SHAPE))
    shard_shape = sharding.shard_shape(SHAPE)
    traced_checks = [c for c in recorded_calls if c[1] == (0, 0)]
    made = [c for c in recorded_calls if c not in traced_checks]
    # one callback per device, each making exactly its shard; never the whole array
    assert len(made) == len(mesh.devices.flat)
    for region, shape in made:
        assert region is not None and shape == shard_shape
    full = fastinit.glorot_uniform(SHAPE, seed=12)
    for shard in jitted.addressable_shards:
        np.testing.assert_array_equal(np.asarray(shard.data), full[shard.index])


def test_inside_jit_a_spec_longer_than_the_shape_with_none_entries_is_taken():
    mesh = make_mesh("2d")
    sharding = NamedSharding(mesh, P("x", None, None))
    init = fj.normal()
    key = jax.random.key(17)
    with jax.set_mesh(mesh):
        jitted = jax.jit(lambda k: init(k, SHAPE, out_sharding=sharding))(key)
    assert jitted.sharding.is_equivalent_to(sharding, len(SHAPE))
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(init(key, SHAPE)))


def test_inside_jit_a_partition_spec_takes_the_context_mesh():
    mesh = make_mesh("2d")
    init = fj.he_uniform()
    key = jax.random.key(13)
    with jax.set_mesh(mesh):
        jitted = jax.jit(lambda k: init(k, SHAPE, out_sharding=P("x", None)))(key)
    assert jitted.sharding == NamedSharding(mesh, P("x", None))
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(init(key, SHAPE)))


def test_vmap_under_jit_with_out_sharding_initializes_each_key_on_its_own():
    mesh = make_mesh("2d")
    sharding = NamedSharding(mesh, P("x", "y"))
    init = fj.lecun_uniform()
    keys = jax.random.split(jax.random.key(14), 3)
    with jax.set_mesh(mesh):
        batched = jax.jit(jax.vmap(lambda k: init(k, SHAPE, out_sharding=sharding)))(keys)
    assert batched.shape == (3,) + SHAPE
    for i in range(3):
        np.testing.assert_array_equal(np.asarray(batched[i]), np.asarray(init(keys[i], SHAPE)))


# ---------------------------------------------------------------- complex, delta_orthogonal

@pytest.mark.parametrize("make", [lambda: fj.normal(0.5), lambda: fj.he_uniform(),
                                  lambda: fj.glorot_normal()], ids=["normal", "disk",
                                                                    "truncated_disk"])
def test_complex_shards_eager_and_jitted_keep_the_unsharded_values(make):
    mesh = make_mesh("2d")
    sharding = NamedSharding(mesh, P("y", "x"))
    init = make()
    key = jax.random.key(15)
    whole = np.asarray(init(key, SHAPE, jax.numpy.complex64))
    sharded = init(key, SHAPE, jax.numpy.complex64, out_sharding=sharding)
    with jax.set_mesh(mesh):
        jitted = jax.jit(lambda k: init(k, SHAPE, jax.numpy.complex64, out_sharding=sharding))(key)
    for got in (sharded, jitted):
        assert got.sharding == sharding and got.dtype == jax.numpy.complex64
        np.testing.assert_array_equal(np.asarray(got), whole)


def test_delta_orthogonal_sharded_over_its_output_channels():
    shape = (3, 3, 16, 32)
    sharding = NamedSharding(make_mesh("1d"), P(None, None, None, "x"))
    init = fj.delta_orthogonal()
    key = jax.random.key(16)
    sharded = init(key, shape, out_sharding=sharding)
    assert sharded.sharding == sharding
    np.testing.assert_array_equal(np.asarray(sharded), np.asarray(init(key, shape)))


# ---------------------------------------------------------------- shardings that do not fit

@pytest.mark.parametrize("shape, spec, words", [
    ((10, 6), P("x", None), "splits axis 0 of shape (10, 6) into 4 parts"),
    ((8, 6), P(None, ("x", "y")), "splits axis 1 of shape (8, 6) into 8 parts"),
    ((), P("x"), "splits axis 0, but shape () has 0 dimensions"),
    ((8,), P(None, "y"), "splits axis 1, but shape (8,) has 1 dimensions"),
])
@pytest.mark.parametrize("traced", [False, True], ids=["eager", "jit"])
def test_a_sharding_that_does_not_fit_the_shape_is_a_value_error_naming_both(shape, spec, words,
                                                                             traced):
    mesh = make_mesh("2d")
    init = fj.normal()
    sharding = NamedSharding(mesh, spec)
    with jax.set_mesh(mesh), pytest.raises(ValueError, match="out_sharding") as raised:
        if traced:
            jax.jit(lambda k: init(k, shape, out_sharding=sharding))(jax.random.key(0))
        else:
            init(jax.random.key(0), shape, out_sharding=sharding)
    assert words in str(raised.value)
