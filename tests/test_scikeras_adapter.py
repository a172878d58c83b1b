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
