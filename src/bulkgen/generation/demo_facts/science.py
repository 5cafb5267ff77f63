"""Science: chemistry, physics, biology, astronomy and mathematics."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Table, table

__all__ = ["TABLES"]

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

_ORGANS = """
Heart|pumps blood through the blood vessels|Pumping blood around the body
Lung|exchanges oxygen and carbon dioxide between air and blood|Gas exchange with inhaled air
Liver|makes bile and stores glycogen|Making bile and storing glycogen
Gallbladder|stores and concentrates bile between meals|Storing and concentrating bile
Pancreas|secretes insulin as well as digestive enzymes|Secreting insulin and digestive enzymes
Stomach|begins protein digestion with acid and pepsin|Starting protein digestion with pepsin
Small intestine|absorbs most of the nutrients from digested food|Absorbing most digested nutrients
Large intestine|absorbs water from undigested food residue|Reabsorbing water from food residue
Kidney|filters blood to form urine|Filtering blood to form urine
Urinary bladder|stores urine until it is voided|Storing urine until voiding
Spleen|removes old red blood cells from the circulation|Removing worn-out red blood cells
Oesophagus|carries swallowed food from the pharynx to the stomach|Carrying swallowed food onward
Trachea|conducts inhaled air from the larynx to the bronchi|Conducting air to the bronchi
Larynx|produces the voice with its vocal folds|Producing the voice
Skin|forms the body's barrier against water loss and infection|Forming a barrier against infection
"""

_ORGANELLES = """
mitochondrion|makes most of a cell's ATP by aerobic respiration|Producing ATP by aerobic respiration
ribosome|assembles proteins from amino acids|Translating messenger RNA into protein
nucleus|holds the chromosomes of a eukaryotic cell|Housing the genetic material
Golgi apparatus|modifies, sorts and packages proteins for secretion|Packaging proteins for secretion
lysosome|breaks down worn-out cell parts with hydrolytic enzymes|Digesting cell debris
chloroplast|carries out photosynthesis in plant cells|Carrying out photosynthesis
smooth endoplasmic reticulum|synthesises lipids and steroids|Synthesising lipids and steroids
centriole|organises the spindle during animal cell division|Organising the mitotic spindle
cell membrane|controls which substances enter and leave a cell|Controlling what enters and leaves
peroxisome|breaks down fatty acids and hydrogen peroxide|Breaking down hydrogen peroxide
cell wall|gives plant cells a rigid outer layer of cellulose|Giving plant cells rigid support
"""

_VITAMINS = """
Vitamin A|vitamin A (retinol)|Night blindness
Thiamine|thiamine|Beriberi
Niacin|niacin|Pellagra
Vitamin C|vitamin C (ascorbic acid)|Scurvy
Vitamin D|vitamin D (calciferol)|Rickets
Vitamin K|vitamin K (phylloquinone)|Haemorrhagic disease of the newborn
Iodine|dietary iodine|Goitre
"""

_HORMONES = """
insulin|Pancreas
glucagon|Pancreas
thyroxine|Thyroid gland
calcitonin|Thyroid gland
cortisol|Adrenal cortex
aldosterone|Adrenal cortex
adrenaline|Adrenal medulla
melatonin|Pineal gland
prolactin|Anterior pituitary
growth hormone|Anterior pituitary
oxytocin|Posterior pituitary
antidiuretic hormone|Posterior pituitary
testosterone|Testes
progesterone|Ovaries
"""

_BONES = """
Patella|kneecap|Kneecap
Clavicle|collarbone|Collarbone
Scapula|shoulder blade|Shoulder blade
Femur|thigh bone|Thigh bone
Sternum|breastbone|Breastbone
Tibia|shinbone|Shinbone
Mandible|lower jaw bone|Lower jaw
Coccyx|tailbone|Tailbone
Humerus|upper arm bone|Upper arm bone
Zygomatic bone|cheekbone|Cheekbone
"""

_ANIMALS = """
dolphin|Mammals
blue whale|Mammals
bat|Mammals
platypus|Mammals
kangaroo|Mammals
hedgehog|Mammals
walrus|Mammals
sea otter|Mammals
penguin|Birds
ostrich|Birds
emu|Birds
kiwi|Birds
hummingbird|Birds
flamingo|Birds
pelican|Birds
crocodile|Reptiles
gecko|Reptiles
tortoise|Reptiles
Komodo dragon|Reptiles
iguana|Reptiles
chameleon|Reptiles
king cobra|Reptiles
salamander|Amphibians
axolotl|Amphibians
newt|Amphibians
common toad|Amphibians
caecilian|Amphibians
great white shark|Fish
seahorse|Fish
Atlantic salmon|Fish
moray eel|Fish
clownfish|Fish
honeybee|Insects
dragonfly|Insects
grasshopper|Insects
ladybird|Insects
scorpion|Arachnids
tarantula|Arachnids
octopus|Molluscs
garden snail|Molluscs
lobster|Crustaceans
hermit crab|Crustaceans
"""

_YOUNG = """
kangaroo|Joey
goat|Kid
cow|Calf
horse|Foal
sheep|Lamb
swan|Cygnet
goose|Gosling
frog|Tadpole
hare|Leveret
bear|Cub
butterfly|Caterpillar
"""

_PATHOGENS = """
Malaria|Protozoan
Sleeping sickness|Protozoan
Toxoplasmosis|Protozoan
Amoebic dysentery|Protozoan
Giardiasis|Protozoan
Tuberculosis|Bacterium
Cholera|Bacterium
Tetanus|Bacterium
Syphilis|Bacterium
Typhoid fever|Bacterium
Leprosy|Bacterium
Lyme disease|Bacterium
Whooping cough|Bacterium
Diphtheria|Bacterium
Anthrax|Bacterium
Gonorrhoea|Bacterium
Influenza|Virus
Measles|Virus
Chickenpox|Virus
Rabies|Virus
Poliomyelitis|Virus
Mumps|Virus
Rubella|Virus
Dengue|Virus
Yellow fever|Virus
Ebola virus disease|Virus
Smallpox|Virus
Ringworm|Fungus
Athlete's foot|Fungus
Oral thrush|Fungus
Histoplasmosis|Fungus
Aspergillosis|Fungus
Creutzfeldt–Jakob disease|Prion
Kuru|Prion
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
    "elements": table("chemistry", "name|symbol|family", _ELEMENTS),
    "compounds": table("chemistry", "name|formula", _COMPOUNDS),
    "si_units": table("physics", "quantity|unit|plural|symbol", _SI_UNITS),
    "prefixes": table("physics", "prefix|factor", _PREFIXES),
    "organs": table("biology", "organ|does|function", _ORGANS),
    "organelles": table("biology", "organelle|does|function", _ORGANELLES),
    "vitamins": table("biology", "nutrient|named|disease", _VITAMINS),
    "hormones": table("biology", "hormone|gland", _HORMONES),
    "bones": table("biology", "bone|common|everyday", _BONES),
    "animals": table("biology", "animal|group", _ANIMALS),
    "young": table("biology", "animal|young", _YOUNG),
    "pathogens": table("biology", "disease|pathogen", _PATHOGENS),
    "moons": table("astronomy", "moon|planet", _MOONS),
    "shapes": table("mathematics", "shape|part|count", _SHAPES),
}
