"""Biology: organs, cell structures, nutrients, hormones, bones, animals, pathogens."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, table

__all__ = ["FORMS", "TABLES"]

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

TABLES: dict[str, Table] = {
    "organs": table("biology", "organ|does|function", _ORGANS),
    "organelles": table("biology", "organelle|does|function", _ORGANELLES),
    "vitamins": table("biology", "nutrient|named|disease", _VITAMINS),
    "hormones": table("biology", "hormone|gland", _HORMONES),
    "bones": table("biology", "bone|common|everyday", _BONES),
    "animals": table("biology", "animal|group", _ANIMALS),
    "young": table("biology", "animal|young", _YOUNG),
    "pathogens": table("biology", "disease|pathogen", _PATHOGENS),
}

FORMS = (
    Form(
        "organs",
        "Which organ {does}?",
        "organ",
        "The {organ_lc} {does}.",
        other="the {organ_lc} {does}",
        key="organ",
    ),
    Form(
        "organs",
        "What is the main function of the {organ_lc}?",
        "function",
        "The main function of the {organ_lc} is {function_lc}: it {does}.",
        other="the {organ_lc} is the organ for {function_lc}",
        key="organ",
    ),
    Form(
        "organelles",
        "Which cell structure {does}?",
        "organelle",
        "The {organelle} {does}.",
        other="the {organelle} {does}",
        key="organelle",
    ),
    Form(
        "organelles",
        "What is the main role of the {organelle} in a cell?",
        "function",
        "The main role of the {organelle} is {function_lc}: it {does}.",
        other="{function_lc} is the role of the {organelle}",
        key="organelle",
    ),
    Form(
        "vitamins",
        "A deficiency of which nutrient causes {disease_lc}?",
        "nutrient",
        "{disease} results from a lack of {named}.",
        other="a lack of {named} causes {disease_lc}",
        key="nutrient",
    ),
    Form(
        "vitamins",
        "Which disease results from a deficiency of {named}?",
        "disease",
        "A lack of {named} causes {disease_lc}.",
        other="{disease_lc} results from a lack of {named}",
        key="nutrient",
    ),
    Form(
        "hormones",
        "Which organ releases {hormone}?",
        "gland",
        "{hormone} is released by the {gland_lc}.",
        other="the {gland_lc} releases {hormone}",
        key="hormone",
    ),
    Form(
        "bones",
        "What is the anatomical name of the {common}?",
        "bone",
        "The {common} is the {bone_lc}.",
        other="the {bone_lc} is the {common}",
        key="bone",
    ),
    Form(
        "bones",
        "What is the everyday name for the {bone_lc}?",
        "everyday",
        "The {bone_lc} is known as the {common}.",
        other="the {common} is the {bone_lc}",
        key="bone",
    ),
    Form(
        "animals",
        "To which group of animals does the {animal} belong?",
        "group",
        "The {animal} is one of the {group_lc}.",
        note="The {animal} belongs to none of the other groups listed.",
        key="animal",
    ),
    Form(
        "young",
        "What is a young {animal} called?",
        "young",
        "A young {animal} is called a {young_lc}.",
        other="a {young_lc} is a young {animal}",
        key="animal",
    ),
    Form(
        "pathogens",
        "What kind of pathogen causes {disease_lc}?",
        "pathogen",
        "{disease} is caused by a {pathogen_lc}.",
        note="{disease} is not caused by any of the other kinds of pathogen listed.",
        key="disease",
    ),
)
