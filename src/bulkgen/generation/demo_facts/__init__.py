"""The demo generator's fact tables: small, checked facts from several subjects.

One module per subject holds its tables and the forms that ask about them. A table is a
subject, its column names and one row per line, fields separated by ``|``. An empty field
means the fact does not apply or is contested (a country with two official languages, a
capital that is disputed), and forms that need it skip the row.
:mod:`bulkgen.generation.demo_questions` turns the rows into questions.
"""

from __future__ import annotations

from types import MappingProxyType

from bulkgen.generation.demo_facts import (
    biology,
    chemistry,
    computing,
    countries,
    culture,
    history,
    physics,
    places,
)
from bulkgen.generation.demo_facts.table import Form, Table

__all__ = ["FORMS", "TABLES", "Form", "Table"]

_SUBJECTS = (countries, places, chemistry, physics, biology, culture, history, computing)
#: Every fact table by name.
TABLES = MappingProxyType({name: t for subject in _SUBJECTS for name, t in subject.TABLES.items()})
#: Every question form, subject by subject.
FORMS: tuple[Form, ...] = tuple(form for subject in _SUBJECTS for form in subject.FORMS)
