"""The initializer cases of JAX's own test suite (jax 0.10.2, tests/nn_test.py,
NNInitializersTest; that file is not in JAX's wheel), restated against fastinit.jax.

What JAX checks, and so what is checked here:
- every initializer, on every shape from () to (2, 3, 4, 5) that it takes (at least 2
  dimensions for the variance-scaling family, 1 for uniform, normal and truncated_normal,
  exactly 2 for orthogonal, exactly 4 for delta_orthogonal, any for variance_scaling with
  explicit empty axes), in every dtype it takes (float32 and float64 everywhere; also
  complex64 and complex128 for normal and the variance-scaling family), returns that
  shape and the dtype JAX canonicalizes the requested one to (float64 becomes float32
  unless jax_enable_x64 is on), whether the dtype is given to the call or to the
  constructor;
- orthogonal of every (rows, cols) in 0..3 has orthonormal rows or columns;
- variance_scaling takes tuples of in and out axes, and a batch axis;
- the default in_axis on a 1-D shape is a ValueError that says what is missing;
- a float32 scalar parameter does not upcast a bfloat16 initializer.
JAX samples 10 of each group's cases with x64 off; here every case runs, with x64 off and
on.  Beyond JAX's checks, every value is finite (a NaN or an infinity would pass a
shape-and-dtype check)."""
import math

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp                                   # noqa: E402

import fastinit.jax as fj                                 # noqa: E402

ALL_SHAPES = [(), (2,), (2, 2), (2, 3), (3, 2), (2, 3, 4), (4, 3, 2), (2, 3, 4, 5)]
FLOATING = ("float32", "float64")
INEXACT = FLOATING + ("complex64", "complex128")


def shapes(min_dims=2, max_dims=4):
    return [s for s in ALL_SHAPES if min_dims <= len(s) <= max_dims]


def constructor(name, *args, **kwargs):
    """fastinit.jax.<name>(*args, **kwargs, dtype=...), looked up when a case runs, so that
    a missing name fails its own cases rather than the whole module."""
    def make(**dtype_kwarg):
        return getattr(fj, name)(*args, **kwargs, **dtype_kwarg)
    return make


# (case name, constructor, dtypes, shapes), as JAX's INITIALIZER_RECS
RECORDS = [
    ("uniform", constructor("uniform"), FLOATING, shapes(1)),
    ("normal", constructor("normal"), INEXACT, shapes(1)),
    ("he_normal", constructor("he_normal"), INEXACT, shapes()),
    ("he_uniform", constructor("he_uniform"), INEXACT, shapes()),
    ("glorot_normal", constructor("glorot_normal"), INEXACT, shapes()),
    ("glorot_uniform", constructor("glorot_uniform"), INEXACT, shapes()),
    ("lecun_normal", constructor("lecun_normal"), INEXACT, shapes()),
    ("lecun_uniform", constructor("lecun_uniform"), INEXACT, shapes()),
    ("orthogonal", constructor("orthogonal"), FLOATING, shapes(2, 2)),
    ("truncated_normal", constructor("truncated_normal"), FLOATING, shapes(1)),
    ("delta_orthogonal", constructor("delta_orthogonal"), FLOATING, shapes(4, 4)),
    ("variance_scaling_fan_geo_avg", constructor("variance_scaling", 1, "fan_geo_avg", "normal"),
     FLOATING, shapes()),
    ("variance_scaling_in_0_out_none",
     constructor("variance_scaling", 1, "fan_in", "normal", in_axis=[0], out_axis=[]),
     FLOATING, shapes(1)),
    ("variance_scaling_in_none_out_0",
     constructor("variance_scaling", 1, "fan_in", "normal", in_axis=[], out_axis=[0]),
     FLOATING, shapes(1)),
    ("variance_scaling_in_none_out_none",
     constructor("variance_scaling", 1, "fan_in", "normal", in_axis=[], out_axis=[]),
     FLOATING, shapes(0)),
]

CASES = [pytest.param(make, shape, dtype, id=f"{name}-{'x'.join(map(str, shape)) or '0d'}-{dtype}")
         for name, make, dtypes, record_shapes in RECORDS
         for shape in record_shapes for dtype in dtypes]


@pytest.fixture(params=[False, True], ids=["x64_off", "x64_on"])
def x64(request):
    with jax.enable_x64(request.param):
        yield request.param


def check_shape_dtype_and_values(value, shape, dtype):
    assert jnp.shape(value) == shape
    assert value.dtype == jax.dtypes.canonicalize_dtype(dtype)
    assert np.all(np.isfinite(np.asarray(value)))


@pytest.mark.parametrize("make, shape, dtype", CASES)
def test_an_initializer_called_with_a_dtype_gives_that_shape_and_dtype(make, shape, dtype, x64):
    value = make()(jax.random.PRNGKey(0), shape, jnp.dtype(dtype))
    check_shape_dtype_and_values(value, shape, dtype)


@pytest.mark.parametrize("make, shape, dtype", CASES)
def test_an_initializer_built_with_a_dtype_gives_that_shape_and_dtype(make, shape, dtype, x64):
    value = make(dtype=jnp.dtype(dtype))(jax.random.PRNGKey(0), shape)
    check_shape_dtype_and_values(value, shape, dtype)


@pytest.mark.parametrize("dtype", FLOATING)
@pytest.mark.parametrize("rows, cols", [(r, c) for r in range(4) for c in range(4)])
def test_orthogonal_of_small_and_empty_shapes_has_orthonormal_rows_or_columns(rows, cols, dtype,
                                                                              x64):
    value = fj.orthogonal()(jax.random.PRNGKey(0), (rows, cols), jnp.dtype(dtype))
    assert value.shape == (rows, cols)
    assert value.dtype == jax.dtypes.canonicalize_dtype(dtype)
    q = np.asarray(value).astype(np.float64)
    tolerance = 1e-6 if value.dtype == jnp.float32 else 1e-14
    if rows <= cols:
        np.testing.assert_allclose(q @ q.T, np.eye(rows), atol=tolerance)
    if cols <= rows:
        np.testing.assert_allclose(q.T @ q, np.eye(cols), atol=tolerance)


def test_variance_scaling_takes_tuples_of_in_and_out_axes():
    init = fj.variance_scaling(scale=1.0, mode="fan_avg", distribution="truncated_normal",
                               in_axis=(0, 1), out_axis=(-2, -1))
    value = init(jax.random.PRNGKey(0), (2, 3, 4, 5))
    check_shape_dtype_and_values(value, (2, 3, 4, 5), "float32")


def test_variance_scaling_takes_a_batch_axis():
    init = fj.variance_scaling(scale=1.0, mode="fan_avg", distribution="truncated_normal",
                               in_axis=0, out_axis=(2, 3), batch_axis=1)
    value = init(jax.random.PRNGKey(0), (2, 3, 4, 5))
    check_shape_dtype_and_values(value, (2, 3, 4, 5), "float32")


def test_the_default_in_axis_on_a_1d_shape_is_refused_saying_what_is_missing():
    init = fj.variance_scaling(scale=1.0, mode="fan_avg", distribution="truncated_normal")
    # JAX's words: "... with default in_axis. Must be at least 2D or specify in_axis explicitly."
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*in_axis"):
        init(jax.random.PRNGKey(0), (5,))


@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal"])
def test_a_float32_scalar_parameter_does_not_upcast_a_bfloat16_initializer(name):
    scalar = jnp.array(1.0, dtype=jnp.float32)
    value = getattr(fj, name)(scalar, jnp.bfloat16)(jax.random.PRNGKey(0), (4, 4))
    assert value.dtype == jnp.bfloat16
    assert math.isfinite(float(np.asarray(value, np.float32).max()))
