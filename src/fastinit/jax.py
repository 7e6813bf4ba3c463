"""fastinit.jax: the jax.nn.initializers protocol over fastinit's stream.

    import jax, fastinit.jax
    init = fastinit.jax.glorot_uniform()              # same names, arguments, defaults
    w = init(jax.random.key(0), (4096, 4096))         # a jax.Array, made on the host

Every constructor mirrors its jax.nn.initializers namesake and returns
init(key, shape, dtype=None, out_sharding=None) -> jax.Array.  The values are those of
fastinit's NumPy API with seed = seed_of_key(key): for example
fastinit.jax.glorot_uniform()(jax.random.key(3), shape) equals
fastinit.glorot_uniform(shape, seed=3) bit for bit (see the README's JAX section for the
full mapping).  With out_sharding, each device's shard is generated on its own as a
region= of the global array; inside jax.jit the initializer becomes a jax.pure_callback,
one per device's shard (inside a jax.shard_map) when out_sharding is a NamedSharding.
complex64 and complex128 follow JAX's complex forms, each element made from a pair of
real draws (docs/stream.md).  docs/keras_jax.md lists where fastinit.jax differs.
"""
import math
import operator

import jax
import jax.numpy as jnp
import numpy as np

from . import _api, _arrays, _schemes
from ._fans import compute_fans
from ._generator import NewOutGenerator

__all__ = [
    "Initializer", "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal",
    "lecun_uniform", "normal", "ones", "orthogonal", "seed_of_key", "truncated_normal",
    "uniform", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
]

# The protocol every initializer here satisfies: JAX's own type, so that annotations and
# isinstance checks written against jax.nn.initializers.Initializer hold for both.
Initializer = jax.nn.initializers.Initializer

# Keyless initializers: nothing random to make faster, so JAX's own are re-exported.
zeros = jax.nn.initializers.zeros
ones = jax.nn.initializers.ones
constant = jax.nn.initializers.constant

# XLA's CPU client adopts a host buffer without a copy when it is aligned to this many bytes
# (NumPy aligns to 16); jax.device_put then costs nothing on the CPU.
_HOST_ALIGNMENT = 64


def seed_of_key(key):
    """seed_of_key(key) -> int, the fastinit seed a JAX key stands for.

    key: a typed key (jax.random.key) or a raw uint32 key (jax.random.PRNGKey), of any
    implementation.  Its data words w_0 .. w_{n-1} (jax.random.key_data) read as one
    big-endian integer: seed = sum(w_i * 2**(32 (n - 1 - i))).  For the default threefry
    keys, jax.random.key(s) and PRNGKey(s) with 0 <= s < 2**32 have words (0, s), so the
    seed is s itself; distinct keys give distinct seeds."""
    words = _key_words(key)
    return int.from_bytes(words.astype(">u4").tobytes(), "big")


def _key_words(key):
    if isinstance(key, jax.core.Tracer):
        raise TypeError("seed_of_key needs a concrete key, not a traced one")
    if isinstance(key, (jax.Array, np.ndarray)) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    try:
        words = np.asarray(key)
    except TypeError:
        raise TypeError(f"key must be a JAX PRNG key, got {type(key).__name__}") from None
    if words.dtype != np.uint32:
        raise TypeError(f"key must be a typed JAX key or a uint32 key array, got dtype {words.dtype}")
    if words.ndim != 1 or words.size == 0:
        raise ValueError(f"key must be a single PRNG key, got key data of shape {words.shape}; "
                         f"split keys are initialized one at a time (e.g. with jax.vmap)")
    return words


def _check_traced_key(key):
    """The key's data as a traced uint32 array, for the pure_callback path."""
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    if key.dtype != jnp.uint32 or key.ndim != 1:
        raise ValueError(f"key must be a single PRNG key, got key data of shape {key.shape} "
                         f"and dtype {key.dtype}")
    return key


def _resolve_dtype(dtype):
    """The dtype jax would give: the default float for None, and float64 (complex128)
    becomes float32 (complex64) unless jax_enable_x64 is on (the values are then float32's,
    not rounded float64's)."""
    if dtype is None:
        return np.dtype(jnp.result_type(float))
    try:
        return np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    except TypeError as e:
        raise TypeError(f"dtype {dtype!r} is not understood: {e}") from None


# complex dtype -> the real dtype of its parts
_COMPLEX_PARTS = {np.dtype(np.complex64): np.dtype(np.float32),
                  np.dtype(np.complex128): np.dtype(np.float64)}


def _call_dtype(dtype, name, takes_complex):
    """The output dtype of a call: a real one the NumPy API takes, or complex64 /
    complex128 for the initializers JAX defines them for."""
    dtype = _resolve_dtype(dtype)
    if dtype in _COMPLEX_PARTS:
        if not takes_complex:
            raise TypeError(f"dtype {dtype}: fastinit.jax.{name} takes real float dtypes only "
                            f"(float32, float64, float16 or bfloat16)")
        return dtype
    return _arrays.resolve_dtype(dtype, None)


def _resolve_sharding(out_sharding):
    """A concrete jax.sharding.Sharding or None; a PartitionSpec takes the mesh of the
    enclosing jax.set_mesh / use_mesh context, as jax.nn.initializers do."""
    if out_sharding is None or isinstance(out_sharding, jax.sharding.Sharding):
        return out_sharding
    if isinstance(out_sharding, jax.sharding.PartitionSpec):
        try:
            mesh = jax.sharding.get_mesh()
        except ValueError:
            # inside jax.jit the context's mesh is known only abstractly (no devices)
            mesh = jax.sharding.get_abstract_mesh()
        if mesh.empty:
            raise ValueError(f"out_sharding={out_sharding} is a PartitionSpec, which needs a mesh "
                             f"context (jax.set_mesh); pass a NamedSharding instead")
        return jax.sharding.NamedSharding(mesh, out_sharding)
    raise TypeError(f"out_sharding must be a jax.sharding.Sharding, a PartitionSpec or None, "
                    f"got {type(out_sharding).__name__}")


def _spec_axes(entry):
    """The mesh axes of one PartitionSpec entry, major first: () for None."""
    if entry is None or entry is jax.sharding.PartitionSpec.UNCONSTRAINED:
        return ()
    return tuple(entry) if isinstance(entry, (tuple, list)) else (entry,)


def _check_sharding_fits(sharding, shape):
    """Raises a ValueError naming out_sharding and the shape unless the sharding splits
    the shape into equal shards (JAX's own errors for this come from deep inside it)."""
    if isinstance(sharding, jax.sharding.NamedSharding):
        sizes = dict(sharding.mesh.shape)
        for axis, entry in enumerate(sharding.spec):
            names = _spec_axes(entry)       # known to the mesh: NamedSharding checks that
            if not names:
                continue
            if axis >= len(shape):
                raise ValueError(f"out_sharding {sharding.spec} splits axis {axis}, but shape "
                                 f"{shape} has {len(shape)} dimensions")
            parts = math.prod(sizes[n] for n in names)
            if shape[axis] % parts:
                raise ValueError(f"out_sharding {sharding.spec} splits axis {axis} of shape "
                                 f"{shape} into {parts} parts, which does not divide its "
                                 f"length {shape[axis]}")
    try:
        sharding.shard_shape(shape)
    except (ValueError, IndexError, AssertionError) as e:
        raise ValueError(f"out_sharding {sharding} does not fit shape {shape}: {e}") from None


def _aligned_empty(shape, dtype):
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + _HOST_ALIGNMENT, np.uint8)
    offset = -raw.ctypes.data % _HOST_ALIGNMENT
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)


def _initializer(draw, default_dtype, name, whole_only=False, check=None, takes_complex=False):
    """init(key, shape, dtype=default_dtype, out_sharding=None) over draw(shape, dtype,
    seed, region, out) -> numpy array, the NumPy API call that defines the values (out:
    None or a buffer just allocated here, filled as a new array: see NewOutGenerator).
    whole_only: draw makes the whole array only (region is None), and shards are cut
    from it.  check(shape, dtype) raises what draw would for bad arguments (default: a
    draw of an empty region), so that a traced call fails at trace time, not in XLA.
    takes_complex: draw also takes complex64 and complex128."""
    if check is None:
        def check(shape, dtype):
            draw(shape, dtype, 0, tuple(slice(0, 0) for _ in shape), None)

    def init(key, shape, dtype=default_dtype, out_sharding=None):
        shape = _arrays.normalize_shape(shape)
        dtype = _call_dtype(dtype, name, takes_complex)
        sharding = _resolve_sharding(out_sharding)
        if sharding is not None:
            _check_sharding_fits(sharding, shape)
        if isinstance(key, jax.core.Tracer):
            check(shape, dtype)
            return _traced(draw, key, shape, dtype, sharding, whole_only)
        seed = seed_of_key(key)
        if sharding is None:
            host = _aligned_empty(shape, dtype)
            draw(shape, dtype, seed, None, host)
            return jax.device_put(host)
        if whole_only:
            whole = draw(shape, dtype, seed, None, None)
            return jax.make_array_from_callback(shape, sharding, lambda index: whole[index])
        # each device's shard alone, as a region of the global array: nothing is gathered
        return jax.make_array_from_callback(
            shape, sharding, lambda index: draw(shape, dtype, seed, index, None))

    init.__name__ = init.__qualname__ = name
    init.__doc__ = (f"{name}(key, shape, dtype={default_dtype!r}, out_sharding=None) -> jax.Array "
                    f"(fastinit's stream; see fastinit.jax)")
    return init


def _seed_of_words(words):
    return int.from_bytes(np.asarray(words).astype(">u4").tobytes(), "big")


def _traced(draw, key, shape, dtype, sharding, whole_only):
    """Inside jit (or vmap, grad...) the values come from host callbacks with the key's
    words; each key of a vmapped batch is initialized on its own.  With a NamedSharding
    (and a draw that can make regions), one callback per device makes that device's shard
    as its region (_traced_by_shard); otherwise one callback makes the whole array, which
    XLA then splits to the requested sharding."""
    words = _check_traced_key(key)
    if (isinstance(sharding, jax.sharding.NamedSharding) and not whole_only
            and jax.sharding.PartitionSpec.UNCONSTRAINED not in sharding.spec):
        return _traced_by_shard(draw, words, shape, dtype, sharding)

    def host(words_value):
        return draw(shape, dtype, _seed_of_words(words_value), None, None)

    values = jax.pure_callback(host, jax.ShapeDtypeStruct(shape, dtype), words,
                               vmap_method="sequential")
    if sharding is None:
        return values
    mesh_axis_types = getattr(getattr(sharding, "mesh", None), "axis_types", ())
    if any(t == jax.sharding.AxisType.Explicit for t in mesh_axis_types):
        return jax.sharding.reshard(values, sharding)
    return jax.lax.with_sharding_constraint(values, sharding)


def _traced_by_shard(draw, words, shape, dtype, sharding):
    """A jax.shard_map over the sharding's mesh whose body is one host callback per device:
    it gets the key's words and the device's position along each mesh axis the spec
    splits by, and makes that device's shard as region= of the global array.  Mesh axes
    the spec leaves out replicate: their devices make the same region."""
    mesh, spec = sharding.mesh, sharding.spec
    sizes = dict(mesh.shape)
    # per array axis: the mesh axes splitting it, major first (NamedSharding's order)
    splits = [_spec_axes(spec[i]) if i < len(spec) else () for i in range(len(shape))]
    split_axes = [name for names in splits for name in names]
    shard_shape = sharding.shard_shape(shape)

    def region_of(positions):
        position = dict(zip(split_axes, positions))
        region = []
        for extent, names in zip(shard_shape, splits):
            part = 0
            for name in names:
                part = part * sizes[name] + position[name]
            region.append(slice(part * extent, (part + 1) * extent))
        return tuple(region)

    def host(words_value, *positions):
        return draw(shape, dtype, _seed_of_words(words_value),
                    region_of([int(p) for p in positions]), None)

    def fill_shard(key_words):
        positions = [jax.lax.axis_index(name) for name in split_axes]
        return jax.pure_callback(host, jax.ShapeDtypeStruct(shard_shape, dtype), key_words,
                                 *positions, vmap_method="sequential")

    # a spec may run past the shape with None entries, which shard_map's out_specs may not
    return jax.shard_map(fill_shard, mesh=mesh, in_specs=jax.sharding.PartitionSpec(),
                         out_specs=jax.sharding.PartitionSpec(*spec[:len(shape)]))(words)


def _check_dtype_kind(dtype, name, takes_complex=False):
    if dtype is not None:
        # an unknown dtype, or a complex one where JAX has no complex form, fails when the
        # initializer is built
        _call_dtype(dtype, name, takes_complex)


def _complex_draw(seed, shape, dtype, region, out, form, s):
    """A complex64 / complex128 array (or its region) from the pairs of one real draw of
    shape (*shape, 2) in the parts' dtype (docs/stream.md, "complex64 and complex128"): "normal"
    reads the pair as (real, imaginary), each normal(0, s); the disk forms read it as
    uniforms for the radius and the angle (_schemes.polar_from_uniform_pairs)."""
    parts = _COMPLEX_PARTS[dtype]
    _schemes.check_complex_scale(form, s, parts)
    if out is None:
        out = _arrays.allocate(_arrays.normalize_region(region, shape)[1], dtype)
    pairs = out.reshape(-1).view(parts).reshape(out.shape + (2,))
    generator = NewOutGenerator(seed)
    if form == "normal":
        generator.normal(shape + (2,), 0.0, s, dtype=parts, region=region, out=pairs)
        return out
    generator.uniform(shape + (2,), 0.0, 1.0, dtype=parts, region=region, out=pairs)
    return _schemes.polar_from_uniform_pairs(pairs, form, s, out)


def uniform(scale=1e-2, dtype=None):
    """uniform(scale=1e-2, dtype=None): values on [0, scale); fastinit.uniform(shape, 0, scale)."""
    _check_dtype_kind(dtype, "uniform")
    scale = _arrays.python_scalar(scale)
    _api.uniform((0,), 0.0, scale)        # validates scale now, as the NumPy API would later

    def draw(shape, dt, seed, region, out):
        return NewOutGenerator(seed).uniform(shape, 0.0, scale, dtype=dt, region=region, out=out)
    return _initializer(draw, dtype, "uniform")


def normal(stddev=1e-2, dtype=None):
    """normal(stddev=1e-2, dtype=None): N(0, stddev^2); fastinit.normal(shape, 0, stddev).
    complex64 / complex128: E|x|^2 = stddev^2, the real and imaginary parts each
    normal(0, stddev / sqrt(2)) (docs/stream.md)."""
    _check_dtype_kind(dtype, "normal", takes_complex=True)
    stddev = _arrays.python_scalar(stddev)
    _api.normal((0,), 0.0, stddev)

    def draw(shape, dt, seed, region, out):
        if dt in _COMPLEX_PARTS:
            return _complex_draw(seed, shape, dt, region, out, "normal",
                                 _schemes.complex_normal_part_std(stddev))
        return NewOutGenerator(seed).normal(shape, 0.0, stddev, dtype=dt, region=region, out=out)
    return _initializer(draw, dtype, "normal", takes_complex=True)


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0): N(0, stddev^2)
    cut to [lower stddev, upper stddev], without the variance correction (as JAX);
    fastinit.truncated_normal(shape, 0, stddev, lower, upper)."""
    _check_dtype_kind(dtype, "truncated_normal")
    stddev, lower, upper = map(_arrays.python_scalar, (stddev, lower, upper))
    _api.truncated_normal((0,), 0.0, stddev, lower, upper)

    def draw(shape, dt, seed, region, out):
        return NewOutGenerator(seed).truncated_normal(shape, 0.0, stddev, lower, upper,
                                                      dtype=dt, region=region, out=out)
    return _initializer(draw, dtype, "truncated_normal")


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
                     dtype=None):
    """variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(),
    dtype=None), as jax.nn.initializers.variance_scaling (mode "fan_in", "fan_out",
    "fan_avg" or "fan_geo_avg"; distribution "truncated_normal", "normal" or "uniform").
    Values: fastinit.variance_scaling(shape, scale, mode, distribution, fan_in=, fan_out=)
    with the fans of fastinit.compute_fans(shape, in_axis=, out_axis=, batch_axis=), which
    are JAX's for every shape and axes JAX takes (a 1-d or 0-d shape with explicit axes
    too).  complex64 / complex128: JAX's complex forms (fastinit._schemes
    .complex_variance_scaling; docs/stream.md)."""
    _check_dtype_kind(dtype, "variance_scaling", takes_complex=True)
    scale = _arrays.python_scalar(scale)
    _api.variance_scaling((0, 0), scale, mode, distribution)     # validates the arguments now
    if distribution == "untruncated_normal":
        raise ValueError("distribution must be 'truncated_normal', 'normal' or 'uniform' "
                         "(jax's names), got 'untruncated_normal'")

    def draw(shape, dt, seed, region, out):
        fan_in, fan_out = compute_fans(shape, in_axis=in_axis, out_axis=out_axis,
                                       batch_axis=batch_axis)
        if not math.prod(shape):
            fan_in = fan_out = None            # an empty array: nothing to scale
        if dt in _COMPLEX_PARTS:
            form, s = _schemes.complex_variance_scaling(scale, mode, distribution, fan_in,
                                                        fan_out)
            return _complex_draw(seed, shape, dt, region, out, form, s)
        fans = {} if fan_in is None else {"fan_in": fan_in, "fan_out": fan_out}
        return NewOutGenerator(seed).variance_scaling(shape, scale, mode, distribution,
                                                      dtype=dt, region=region, out=out, **fans)
    return _initializer(draw, dtype, "variance_scaling", takes_complex=True)


def _named_scheme(name, scale, mode, distribution, jax_name):
    def constructor(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
        return variance_scaling(scale, mode, distribution, in_axis=in_axis, out_axis=out_axis,
                                batch_axis=batch_axis, dtype=dtype)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (
        f"{name}(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None), as "
        f"jax.nn.initializers.{jax_name}: variance_scaling({scale}, {mode!r}, {distribution!r}).")
    return constructor


glorot_uniform = _named_scheme("glorot_uniform", 1.0, "fan_avg", "uniform", "glorot_uniform")
glorot_normal = _named_scheme("glorot_normal", 1.0, "fan_avg", "truncated_normal", "glorot_normal")
lecun_uniform = _named_scheme("lecun_uniform", 1.0, "fan_in", "uniform", "lecun_uniform")
lecun_normal = _named_scheme("lecun_normal", 1.0, "fan_in", "truncated_normal", "lecun_normal")
he_uniform = _named_scheme("he_uniform", 2.0, "fan_in", "uniform", "he_uniform")
he_normal = _named_scheme("he_normal", 2.0, "fan_in", "truncated_normal", "he_normal")
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def _orthogonal_draw(scale, column_axis):
    """(draw, check) of orthogonal(scale, column_axis), its arguments validated."""
    scale = _arrays.python_scalar(scale)
    _api.orthogonal((0, 0), scale)
    try:
        column_axis = operator.index(column_axis)
    except TypeError:
        raise TypeError(f"column_axis must be an int, got {column_axis!r}") from None

    def check(shape, dt):
        if len(shape) < 2:
            raise ValueError(f"orthogonal needs a shape with at least 2 dimensions, got {shape}")
        if not -len(shape) <= column_axis < len(shape):
            raise ValueError(f"column_axis={column_axis} is out of range for shape {shape}")

    def draw(shape, dt, seed, region, out):
        check(shape, dt)
        axis = column_axis % len(shape)
        rest = shape[:axis] + shape[axis + 1:]
        q = _api.orthogonal((math.prod(rest), shape[axis]), scale, dtype=dt, seed=seed)
        q = np.moveaxis(q.reshape(rest + (shape[axis],)), -1, axis)
        if out is None:
            return np.ascontiguousarray(q)
        out[...] = q
        return out
    return draw, check


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """orthogonal(scale=1.0, column_axis=-1, dtype=None), as jax.nn.initializers.orthogonal:
    the shape read as a (rows, cols) matrix with cols = shape[column_axis] and rows the
    product of the other axes; values fastinit.orthogonal((rows, cols), gain=scale),
    reshaped and the column axis moved into place.  The QR factorization needs the whole
    matrix, so with out_sharding it is made once on the host and then split into shards.
    Real dtypes only (JAX also makes complex unitary matrices)."""
    _check_dtype_kind(dtype, "orthogonal")
    draw, check = _orthogonal_draw(scale, column_axis)
    return _initializer(draw, dtype, "orthogonal", whole_only=True, check=check)


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """delta_orthogonal(scale=1.0, column_axis=-1, dtype=None), as
    jax.nn.initializers.delta_orthogonal (Xiao et al. 2018, "Dynamical isometry and a mean
    field theory of CNNs"): for a 3-, 4- or 5-d convolution kernel (*spatial, in, out)
    with in <= out, zeros except at the spatial center ((k - 1) // 2 along each spatial
    axis), which holds orthogonal(scale, column_axis)(key, (in, out)), the same key's
    orthogonal matrix.  With out_sharding the kernel is made once and split, as orthogonal
    is (JAX's own delta_orthogonal refuses out_sharding).  Real dtypes only."""
    _check_dtype_kind(dtype, "delta_orthogonal")
    matrix_draw, matrix_check = _orthogonal_draw(scale, column_axis)

    def check(shape, dt):
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"delta_orthogonal needs a 3-, 4- or 5-dimensional shape (the "
                             f"kernel of a 1-, 2- or 3-d convolution), got {shape}")
        if shape[-1] < shape[-2]:
            raise ValueError(f"delta_orthogonal needs fan_in <= fan_out, shape[-2] <= "
                             f"shape[-1], got shape {shape}")
        matrix_check(shape[-2:], dt)

    def draw(shape, dt, seed, region, out):
        check(shape, dt)
        if out is None:
            kernel = np.zeros(shape, dt)
        else:
            kernel = out
            kernel[...] = 0
        if math.prod(shape):
            center = tuple((k - 1) // 2 for k in shape[:-2])
            kernel[center] = matrix_draw(shape[-2:], dt, seed, None, None)
        return kernel
    return _initializer(draw, dtype, "delta_orthogonal", whole_only=True, check=check)
