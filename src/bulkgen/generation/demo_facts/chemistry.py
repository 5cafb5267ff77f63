"""Chemistry: elements (symbols and families) and compounds (formulas)."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, not_a_word, table

__all__ = ["FORMS", "TABLES"]

# Categories as the element's family; zinc, cadmium, mercury, selenium and polonium are
# classed differently by different sources, so they get no family.
_ELEMENTS = """
Hydrogen|H|Nonmetals
Helium|He|Noble gases
Lithium|Li|Alkali metals
Beryllium|Be|Alkaline earth metals
Boron|B|Metalloids
Carbon|C|Nonmetals
Nitrogen|N|Nonmetals
Oxygen|O|Nonmetals
Fluorine|F|Halogens
Neon|Ne|Noble gases
Sodium|Na|Alkali metals
Magnesium|Mg|Alkaline earth metals
Aluminium|Al|Post-transition metals
Silicon|Si|Metalloids
Phosphorus|P|Nonmetals
Sulfur|S|Nonmetals
Chlorine|Cl|Halogens
Argon|Ar|Noble gases
Potassium|K|Alkali metals
Calcium|Ca|Alkaline earth metals
Scandium|Sc|Transition metals
Titanium|Ti|Transition metals
Vanadium|V|Transition metals
Chromium|Cr|Transition metals
Manganese|Mn|Transition metals
Iron|Fe|Transition metals
Cobalt|Co|Transition metals
Nickel|Ni|Transition metals
Copper|Cu|Transition metals
Zinc|Zn|
Gallium|Ga|Post-transition metals
Germanium|Ge|Metalloids
Arsenic|As|Metalloids
Selenium|Se|
Bromine|Br|Halogens
Krypton|Kr|Noble gases
Rubidium|Rb|Alkali metals
Strontium|Sr|Alkaline earth metals
Yttrium|Y|Transition metals
Zirconium|Zr|Transition metals
Niobium|Nb|Transition metals
Molybdenum|Mo|Transition metals
Technetium|Tc|Transition metals
Ruthenium|Ru|Transition metals
Rhodium|Rh|Transition metals
Palladium|Pd|Transition metals
Silver|Ag|Transition metals
Cadmium|Cd|
Indium|In|Post-transition metals
Tin|Sn|Post-transition metals
Antimony|Sb|Metalloids
Tellurium|Te|Metalloids
Iodine|I|Halogens
Xenon|Xe|Noble gases
Caesium|Cs|Alkali metals
Barium|Ba|Alkaline earth metals
Lanthanum|La|Lanthanides
Cerium|Ce|Lanthanides
Neodymium|Nd|Lanthanides
Europium|Eu|Lanthanides
Gadolinium|Gd|Lanthanides
Hafnium|Hf|Transition metals
Tantalum|Ta|Transition metals
Tungsten|W|Transition metals
Osmium|Os|Transition metals
Iridium|Ir|Transition metals
Platinum|Pt|Transition metals
Gold|Au|Transition metals
Mercury|Hg|
Thallium|Tl|Post-transition metals
Lead|Pb|Post-transition metals
Bismuth|Bi|Post-transition metals
Polonium|Po|
Radon|Rn|Noble gases
Francium|Fr|Alkali metals
Radium|Ra|Alkaline earth metals
Thorium|Th|Actinides
Uranium|U|Actinides
Plutonium|Pu|Actinides
Americium|Am|Actinides
Curium|Cm|Actinides
Praseodymium|Pr|Lanthanides
Promethium|Pm|Lanthanides
Samarium|Sm|Lanthanides
Terbium|Tb|Lanthanides
Dysprosium|Dy|Lanthanides
Holmium|Ho|Lanthanides
Erbium|Er|Lanthanides
Thulium|Tm|Lanthanides
Ytterbium|Yb|Lanthanides
Rhenium|Re|Transition metals
Actinium|Ac|Actinides
Protactinium|Pa|Actinides
Neptunium|Np|Actinides
Berkelium|Bk|Actinides
Californium|Cf|Actinides
Einsteinium|Es|Actinides
Fermium|Fm|Actinides
Mendelevium|Md|Actinides
"""

_COMPOUNDS = """
water|H2O
table salt|NaCl
baking soda|NaHCO3
methane|CH4
ammonia|NH3
glucose|C6H12O6
ethanol|C2H5OH
sulfuric acid|H2SO4
hydrochloric acid|HCl
nitric acid|HNO3
sodium hydroxide|NaOH
calcium carbonate|CaCO3
ozone|O3
hydrogen peroxide|H2O2
carbon monoxide|CO
carbon dioxide|CO2
sulfur dioxide|SO2
potassium permanganate|KMnO4
silicon dioxide|SiO2
"""

TABLES: dict[str, Table] = {
    "elements": table("chemistry", "name|symbol|family", _ELEMENTS),
    "compounds": table("chemistry", "name|formula", _COMPOUNDS),
}

FORMS = (
    Form(
        "elements",
        "Which element has the chemical symbol {symbol}?",
        "name",
        "{symbol} is the chemical symbol of {name_lc}.",
        other="{name_lc} has the symbol {symbol}",
        key="symbol",
        when=not_a_word("symbol"),
    ),
    Form(
        "elements",
        "What is the chemical symbol for {name_lc}?",
        "symbol",
        "The chemical symbol for {name_lc} is {symbol}.",
        other="{symbol} stands for {name_lc}",
        key="name",
    ),
    Form(
        "elements",
        "To which family of elements does {name_lc} belong?",
        "family",
        "{name} belongs to the {family_lc}.",
        note="{name} belongs to none of the other families listed.",
        key="name",
    ),
    Form(
        "compounds",
        "What is the chemical formula of {name}?",
        "formula",
        "{name} has the formula {formula}.",
        other="{formula} is {name}",
        key="name",
    ),
)
