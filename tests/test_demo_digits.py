"""The demo's experiment on scikit-learn's bundled load_digits: the lecture's claim that
constant initializations fail where the advised ones learn, measured at a fixed seed."""
import pytest

pytest.importorskip("sklearn")

from fastinit import _demo  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    x, y, description = _demo.load_data(seed=0)
    return _demo.split_data(x, y, seed=0), description


def test_load_data_uses_load_digits(digits):
    (x_train, y_train, x_test, y_test), description = digits
    assert description.startswith("load_digits")
    assert x_train.shape[1] == 64 and len(y_train) + len(y_test) == 1797


@pytest.mark.parametrize("activation, init", [("relu", "he_normal"), ("relu", "he_uniform"),
                                              ("tanh", "xavier_normal"),
                                              ("tanh", "xavier_uniform"),
                                              ("relu", _demo.ADVISED),
                                              ("tanh", _demo.ADVISED)])
def test_advised_inits_learn_the_digits(digits, activation, init):
    with _demo.one_blas_thread():
        result = _demo.train_and_test(digits[0], activation, init)
    assert result["accuracy"] > 0.9                  # chance is 0.1


@pytest.mark.parametrize("activation", _demo.EXPERIMENT_ACTIVATIONS)
@pytest.mark.parametrize("init", _demo.CONSTANT_INITS)
def test_constant_inits_stay_near_chance(digits, activation, init):
    with _demo.one_blas_thread():
        result = _demo.train_and_test(digits[0], activation, init)
    assert result["accuracy"] < 0.2
