"""History: who did what, and the years of events."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, table

__all__ = ["FORMS", "TABLES"]

_PEOPLE = """
Alexander Fleming|discovered penicillin in 1928|Discovering penicillin
Henri Becquerel|discovered radioactivity in uranium salts|Discovering radioactivity
J. J. Thomson|discovered the electron in 1897|Discovering the electron
James Chadwick|discovered the neutron in 1932|Discovering the neutron
Ernest Rutherford|showed that atoms have a small dense nucleus|Discovering the atomic nucleus
Wilhelm Röntgen|discovered X-rays in 1895|Discovering X-rays
Edward Jenner|pioneered vaccination against smallpox|Pioneering smallpox vaccination
Louis Pasteur|developed pasteurisation to keep liquids from spoiling|Developing pasteurisation
Galileo Galilei|discovered four large moons of Jupiter in 1610|Discovering moons of Jupiter
Johannes Kepler|formulated the laws of planetary motion|The laws of planetary motion
Michael Faraday|discovered electromagnetic induction in 1831|Discovering electromagnetic induction
Dmitri Mendeleev|published a periodic table predicting new elements|Devising the periodic table
Tim Berners-Lee|invented the World Wide Web|Inventing the World Wide Web
Alfred Nobel|invented dynamite|Inventing dynamite
William Harvey|described the circulation of the blood|Describing blood circulation
Antonie van Leeuwenhoek|first described bacteria under a microscope|Observing bacteria by microscope
Jocelyn Bell Burnell|discovered the first radio pulsars|Discovering pulsars
Werner Heisenberg|formulated the uncertainty principle|The uncertainty principle
Johannes Gutenberg|introduced movable-type printing to Europe|Movable-type printing in Europe
Karl Landsteiner|discovered the ABO blood groups|Discovering the ABO blood groups
Gregor Mendel|worked out the laws of inheritance from pea plants|The laws of inheritance
Jonas Salk|developed the first widely used polio vaccine|Developing a polio vaccine
Charles Babbage|designed the Analytical Engine|Designing the Analytical Engine
Ada Lovelace|published a program for the Analytical Engine|The first published computer program
Nicolaus Copernicus|proposed a Sun-centred model of the solar system|A Sun-centred solar system
Albert Einstein|published the general theory of relativity|General relativity
Marie Curie|discovered the elements polonium and radium|Discovering polonium and radium
Neil Armstrong|first walked on the Moon in 1969|The first Moon walk
Yuri Gagarin|became the first human to fly in space|The first human spaceflight
Valentina Tereshkova|became the first woman to fly in space|The first woman in space
Roald Amundsen|led the first expedition to reach the South Pole|Reaching the South Pole first
Vasco da Gama|first sailed from Europe to India around Africa|Sailing from Europe to India
Amelia Earhart|was the first woman to fly solo across the Atlantic|A solo Atlantic flight by a woman
Nelson Mandela|was elected president of South Africa in 1994|Leading post-apartheid South Africa
Abraham Lincoln|issued the Emancipation Proclamation|The Emancipation Proclamation
Mahatma Gandhi|led the Salt March of 1930|Leading the Salt March
Genghis Khan|founded the Mongol Empire|Founding the Mongol Empire
Florence Nightingale|reformed army nursing in the Crimean War|Reforming nursing in the Crimean War
Rosa Parks|refused to give up her bus seat in Montgomery in 1955|The Montgomery bus protest
"""

_EVENTS = """
1989|the Berlin Wall fall|the fall of the Berlin Wall
1961|the building of the Berlin Wall begin|the building of the Berlin Wall
1789|the storming of the Bastille take place|the storming of the Bastille
1914|the First World War begin|the start of the First World War
1945|the Second World War end|the end of the Second World War
1912|the Titanic sink|the sinking of the Titanic
1776|the United States declare independence|the US Declaration of Independence
1066|the Battle of Hastings take place|the Battle of Hastings
1215|King John seal Magna Carta|the sealing of Magna Carta
1991|the Soviet Union dissolve|the dissolution of the Soviet Union
1969|Apollo 11 land on the Moon|the Apollo 11 Moon landing
1917|the October Revolution take place in Russia|the October Revolution
1947|India gain independence from Britain|Indian independence
1666|the Great Fire of London break out|the Great Fire of London
1929|the Wall Street Crash happen|the Wall Street Crash
1815|the Battle of Waterloo take place|the Battle of Waterloo
1986|the Chernobyl nuclear disaster happen|the Chernobyl disaster
2002|euro banknotes and coins enter circulation|the first euro cash
1919|the Treaty of Versailles get signed|the Treaty of Versailles
1453|Constantinople fall to the Ottoman Turks|the fall of Constantinople
1517|Martin Luther publish the Ninety-five Theses|the Ninety-five Theses
1588|the Spanish Armada sail against England|the Spanish Armada
1865|the American Civil War end|the end of the American Civil War
1962|the Cuban Missile Crisis take place|the Cuban Missile Crisis
1896|the first modern Olympic Games open in Athens|the first modern Olympics
1941|Japan attack Pearl Harbor|the attack on Pearl Harbor
1773|the Boston Tea Party take place|the Boston Tea Party
1903|the Wright brothers make their first powered flight|the first powered aeroplane flight
1492|Columbus first reach the Americas|Columbus's first landfall in the Americas
1869|the Suez Canal open|the opening of the Suez Canal
"""

TABLES: dict[str, Table] = {
    "people": table("history of science and exploration", "person|did|feat", _PEOPLE),
    "events": table("history", "year|did|noun", _EVENTS),
}

FORMS = (
    Form(
        "people",
        "Who {did}?",
        "person",
        "{person} {did}.",
        other="{person} {did}",
        key="person",
    ),
    Form(
        "people",
        "What is {person} best known for?",
        "feat",
        "{person} is best known for {feat_lc}.",
        other="{feat_lc} is what {person} is known for",
        key="person",
    ),
    Form(
        "events",
        "In which year did {did}?",
        "year",
        "{noun} came in {year}.",
        other="{year} is the year of {noun}",
        key="year",
    ),
)
