"""The public surface: ``bulkgen.__all__`` names what users may rely on, and nothing else.

Like httpx's ``test_exported_members.py``: a name added to a module is not public until it is
added to ``__all__`` on purpose, and a name in ``__all__`` must be real.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types
import typing

import pytest

import bulkgen

#: Modules that do something when imported: the CLI entry point and Alembic's migrations.
NOT_IMPORTABLE = ("bulkgen.__main__", "bulkgen.log.migrations")


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then everything else."""
    if name.isupper():
        return 0, name
    if name[0].isupper():
        return 1, name
    return 2, name


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def home_modules(value: object) -> list[str]:
    """The modules that define ``value``; a union alias is defined by its members."""
    if isinstance(value, types.UnionType) or typing.get_origin(value) is typing.Union:
        return [module for arg in typing.get_args(value) for module in home_modules(arg)]
    return [getattr(value, "__module__", "")]


def bulkgen_modules() -> list[str]:
    found = [
        info.name
        for info in pkgutil.walk_packages(bulkgen.__path__, "bulkgen.")
        if not info.name.startswith(NOT_IMPORTABLE)
    ]
    return ["bulkgen", *found]


def test_every_public_name_exists() -> None:
    missing = [name for name in bulkgen.__all__ if not hasattr(bulkgen, name)]
    assert missing == []


def test_all_is_sorted_without_duplicates() -> None:
    assert len(set(bulkgen.__all__)) == len(bulkgen.__all__)
    assert bulkgen.__all__ == sorted(bulkgen.__all__, key=isort_key)


def test_no_private_name_is_public() -> None:
    assert [name for name in bulkgen.__all__ if is_private(name)] == []


def test_public_names_are_defined_in_bulkgen() -> None:
    homes = {
        name: home_modules(getattr(bulkgen, name))
        for name in bulkgen.__all__
        if name != "__version__"
    }
    foreign = {
        name: modules
        for name, modules in homes.items()
        if not all(module.startswith("bulkgen.") for module in modules)
    }
    assert foreign == {}
    assert isinstance(bulkgen.__version__, str)


def test_the_public_surface_has_the_client_app_and_errors() -> None:
    for name in ("BulkgenClient", "ClientError", "create_app", "Services", "Settings"):
        assert name in bulkgen.__all__
    from bulkgen import errors

    error_types = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert error_types <= set(bulkgen.__all__)


def test_lazy_names_are_the_real_objects_and_listed_by_dir() -> None:
    from bulkgen.http import create_app
    from bulkgen.services import Services

    assert bulkgen.create_app is create_app
    assert bulkgen.Services is Services
    assert set(bulkgen.__all__) <= set(dir(bulkgen))
    with pytest.raises(AttributeError, match="no_such_name"):
        bulkgen.no_such_name  # noqa: B018


def test_importing_bulkgen_leaves_the_server_stack_unloaded() -> None:
    """Client scripts import bulkgen; they should not pay for FastAPI and SQLAlchemy."""
    code = (
        "import sys, bulkgen; "
        "print(*sorted(m for m in ('fastapi', 'sqlalchemy', 'openai', 'uvicorn')"
        " if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.split() == []


@pytest.mark.parametrize("module_name", bulkgen_modules())
def test_every_all_in_the_package_names_what_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ has duplicates"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == [], f"{module_name}.__all__ names what it does not define"
