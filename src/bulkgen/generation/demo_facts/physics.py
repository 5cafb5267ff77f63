"""Physics, astronomy and mathematics: SI units and prefixes, moons, shapes."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, not_a_word, table

__all__ = ["FORMS", "TABLES"]

_SI_UNITS = """
length|metre|metres|m
mass|kilogram|kilograms|kg
time|second|seconds|s
electric current|ampere|amperes|A
thermodynamic temperature|kelvin|kelvins|K
amount of substance|mole|moles|mol
luminous intensity|candela|candelas|cd
force|newton|newtons|N
energy|joule|joules|J
power|watt|watts|W
pressure|pascal|pascals|Pa
electric charge|coulomb|coulombs|C
electric potential difference|volt|volts|V
electrical resistance|ohm|ohms|Ω
capacitance|farad|farads|F
frequency|hertz|hertz|Hz
magnetic flux density|tesla|teslas|T
inductance|henry|henries|H
electrical conductance|siemens|siemens|S
radioactive activity|becquerel|becquerels|Bq
absorbed radiation dose|gray|grays|Gy
equivalent radiation dose|sievert|sieverts|Sv
illuminance|lux|lux|lx
luminous flux|lumen|lumens|lm
catalytic activity|katal|katals|kat
plane angle|radian|radians|rad
solid angle|steradian|steradians|sr
"""

_PREFIXES = """
quetta|10³⁰
exa|10¹⁸
peta|10¹⁵
tera|10¹²
giga|10⁹
mega|10⁶
kilo|10³
hecto|10²
deci|10⁻¹
centi|10⁻²
milli|10⁻³
micro|10⁻⁶
nano|10⁻⁹
pico|10⁻¹²
femto|10⁻¹⁵
"""

_MOONS = """
Titan|Saturn
Enceladus|Saturn
Mimas|Saturn
Iapetus|Saturn
Europa|Jupiter
Io|Jupiter
Ganymede|Jupiter
Callisto|Jupiter
Phobos|Mars
Deimos|Mars
Triton|Neptune
Miranda|Uranus
Titania|Uranus
Oberon|Uranus
"""

_SHAPES = """
a triangle|sides|3
a quadrilateral|sides|4
a pentagon|sides|5
a hexagon|sides|6
a heptagon|sides|7
an octagon|sides|8
a nonagon|sides|9
a decagon|sides|10
a dodecagon|sides|12
a tetrahedron|faces|4
a cube|faces|6
an octahedron|faces|8
a dodecahedron|faces|12
an icosahedron|faces|20
"""

TABLES: dict[str, Table] = {
    "si_units": table("physics", "quantity|unit|plural|symbol", _SI_UNITS),
    "prefixes": table("physics", "prefix|factor", _PREFIXES),
    "moons": table("astronomy", "moon|planet", _MOONS),
    "shapes": table("mathematics", "shape|part|count", _SHAPES),
}

FORMS = (
    Form(
        "si_units",
        "What is the SI unit of {quantity}?",
        "unit",
        "The SI unit of {quantity} is the {unit}.",
        other="the {unit} measures {quantity}",
        key="quantity",
    ),
    Form(
        "si_units",
        "Which physical quantity is measured in {plural}?",
        "quantity",
        "The {unit} is the SI unit of {quantity}.",
        other="{quantity} is measured in {plural}",
        key="unit",
    ),
    Form(
        "si_units",
        "Which SI unit has the symbol {symbol}?",
        "unit",
        "{symbol} is the symbol of the {unit}, the SI unit of {quantity}.",
        other="the {unit} has the symbol {symbol}",
        key="symbol",
        when=not_a_word("symbol"),
    ),
    Form(
        "prefixes",
        "What factor does the SI prefix {prefix} stand for?",
        "factor",
        "The prefix {prefix} stands for a factor of {factor}.",
        other="{factor} is the factor of the prefix {prefix}",
        key="prefix",
    ),
    Form(
        "moons",
        "Which planet does the moon {moon} orbit?",
        "planet",
        "{moon} is a moon of {planet}.",
        other="{planet} has the moon {moon}",
        key="moon",
    ),
    Form(
        "shapes",
        "How many {part} does {shape} have?",
        "count",
        "{shape} has {count} {part}.",
        other="{count} is the number of {part} of {shape}",
        key="count",
    ),
)
