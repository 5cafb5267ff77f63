"""The demo generator's fact tables: small, checked facts from several subjects.

Each table is a subject, its column names and one row per line, fields separated by
``|``. An empty field means the fact does not apply or is contested (a country with two
official languages, a capital that is disputed), and question forms that need it skip the
row. :mod:`bulkgen.generation.demo_questions` turns these rows into questions.
"""

from __future__ import annotations

from types import MappingProxyType

from bulkgen.generation.demo_facts import culture, geography, science
from bulkgen.generation.demo_facts.table import Table

__all__ = ["TABLES", "Table"]

#: Every fact table by name.
TABLES = MappingProxyType({**geography.TABLES, **science.TABLES, **culture.TABLES})
