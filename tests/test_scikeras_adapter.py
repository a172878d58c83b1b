"""The thin scikeras adapter (skdense/_scikeras.py): the private scikeras members it
still uses are listed in one place, and this test fails when scikeras changes one."""

import inspect

import pytest

scikeras_wrappers = pytest.importorskip("scikeras.wrappers")


def test_private_scikeras_members_are_the_listed_ones_and_unchanged():
    from skdense import _scikeras

    base = scikeras_wrappers.BaseWrapper
    source = inspect.getsource(base)
    for name, parameters, why in _scikeras.SCIKERAS_PRIVATE:
        assert why, name
        if parameters is None:  # an attribute scikeras sets
            assert f"self.{name} =" in source, f"scikeras no longer sets {name}"
        else:
            member = getattr(base, name, None)
            assert callable(member), f"scikeras no longer has {name}"
            assert tuple(inspect.signature(member).parameters) == parameters, name


def test_no_other_private_scikeras_member_is_used():
    """Every `est._x`/`self._x`/`super()._x` in the adapter is listed (or skdense's own)."""
    import re

    from skdense import _scikeras

    listed = {name for name, _, _ in _scikeras.SCIKERAS_PRIVATE}
    source = inspect.getsource(_scikeras)
    used = set(re.findall(r"(?:\best|\bself|super\(\))\.(_[a-z][a-z_]*)", source))
    own = {name for name in used if name in vars(_scikeras._SkdenseWrapper)}
    assert used - own - listed == set()


def test_every_scikeras_attribute_the_adapter_assigns_is_listed():
    """`est.x_ = ...`/`self.x_ = ...` (also in a tuple) of a fitted or private
    attribute in the adapter: each one is listed, so the test above covers it."""
    import re

    from skdense import _scikeras

    listed = {name for name, _, _ in _scikeras.SCIKERAS_PRIVATE}
    source = inspect.getsource(_scikeras)
    assigned = set()
    for targets in re.findall(r"^\s*((?:(?:est|self)\.\w+\s*,\s*)*(?:est|self)\.\w+)\s*=[^=]",
                              source, flags=re.M):
        assigned.update(re.findall(r"(?:est|self)\.(\w+)", targets))
    scikeras_owned = {n for n in assigned if n.endswith("_") or n.startswith("_")}
    assert scikeras_owned, "the pattern found no assignment"
    assert {"model_", "target_encoder_", "X_dtype_"} <= scikeras_owned
    assert scikeras_owned - listed == set()


def test_the_loader_checks_the_fields_the_adapter_writes():
    """persistence/_state.py checks a file's state at load without importing scikeras;
    its field names are the adapter's."""
    from skdense import _scikeras
    from skdense.persistence import _state

    assert _state.V2_FIELDS == _scikeras.STATE_FIELDS
