"""Culture and history: literature, art, music, people, events, computing, mythology, sport."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Table, table

__all__ = ["TABLES"]

_WORKS = """
Pride and Prejudice|Jane Austen|novel
Emma|Jane Austen|novel
Hamlet|William Shakespeare|play
Macbeth|William Shakespeare|play
Othello|William Shakespeare|play
King Lear|William Shakespeare|play
Romeo and Juliet|William Shakespeare|play
The Tempest|William Shakespeare|play
Oliver Twist|Charles Dickens|novel
Great Expectations|Charles Dickens|novel
A Tale of Two Cities|Charles Dickens|novel
David Copperfield|Charles Dickens|novel
War and Peace|Leo Tolstoy|novel
Anna Karenina|Leo Tolstoy|novel
Crime and Punishment|Fyodor Dostoevsky|novel
The Brothers Karamazov|Fyodor Dostoevsky|novel
Don Quixote|Miguel de Cervantes|novel
Moby-Dick|Herman Melville|novel
The Great Gatsby|F. Scott Fitzgerald|novel
Nineteen Eighty-Four|George Orwell|novel
Animal Farm|George Orwell|novella
Brave New World|Aldous Huxley|novel
To Kill a Mockingbird|Harper Lee|novel
The Catcher in the Rye|J. D. Salinger|novel
Frankenstein|Mary Shelley|novel
Dracula|Bram Stoker|novel
Jane Eyre|Charlotte Brontë|novel
Wuthering Heights|Emily Brontë|novel
Middlemarch|George Eliot|novel
Ulysses|James Joyce|novel
Mrs Dalloway|Virginia Woolf|novel
To the Lighthouse|Virginia Woolf|novel
The Odyssey|Homer|epic poem
The Iliad|Homer|epic poem
The Divine Comedy|Dante Alighieri|poem
Paradise Lost|John Milton|poem
The Canterbury Tales|Geoffrey Chaucer|story collection
Faust|Johann Wolfgang von Goethe|play
Les Misérables|Victor Hugo|novel
The Hunchback of Notre-Dame|Victor Hugo|novel
Madame Bovary|Gustave Flaubert|novel
The Count of Monte Cristo|Alexandre Dumas|novel
The Three Musketeers|Alexandre Dumas|novel
One Hundred Years of Solitude|Gabriel García Márquez|novel
The Metamorphosis|Franz Kafka|novella
The Trial|Franz Kafka|novel
The Stranger|Albert Camus|novel
The Old Man and the Sea|Ernest Hemingway|novella
A Farewell to Arms|Ernest Hemingway|novel
The Grapes of Wrath|John Steinbeck|novel
Of Mice and Men|John Steinbeck|novella
Adventures of Huckleberry Finn|Mark Twain|novel
Gulliver's Travels|Jonathan Swift|novel
Robinson Crusoe|Daniel Defoe|novel
Treasure Island|Robert Louis Stevenson|novel
The Picture of Dorian Gray|Oscar Wilde|novel
The Importance of Being Earnest|Oscar Wilde|play
Lord of the Flies|William Golding|novel
The Hobbit|J. R. R. Tolkien|novel
Things Fall Apart|Chinua Achebe|novel
Beloved|Toni Morrison|novel
The Handmaid's Tale|Margaret Atwood|novel
Invisible Man|Ralph Ellison|novel
Lolita|Vladimir Nabokov|novel
Catch-22|Joseph Heller|novel
Slaughterhouse-Five|Kurt Vonnegut|novel
Fahrenheit 451|Ray Bradbury|novel
The Little Prince|Antoine de Saint-Exupéry|novella
Alice's Adventures in Wonderland|Lewis Carroll|novel
Heart of Darkness|Joseph Conrad|novella
Waiting for Godot|Samuel Beckett|play
Death of a Salesman|Arthur Miller|play
The Crucible|Arthur Miller|play
A Streetcar Named Desire|Tennessee Williams|play
Pygmalion|George Bernard Shaw|play
A Doll's House|Henrik Ibsen|play
The Cherry Orchard|Anton Chekhov|play
Oedipus Rex|Sophocles|play
The Aeneid|Virgil|epic poem
The Prince|Niccolò Machiavelli|treatise
Leviathan|Thomas Hobbes|treatise
The Republic|Plato|dialogue
On the Origin of Species|Charles Darwin|book
The Wealth of Nations|Adam Smith|book
A Brief History of Time|Stephen Hawking|book
Silent Spring|Rachel Carson|book
The Waste Land|T. S. Eliot|poem
Leaves of Grass|Walt Whitman|poetry collection
The Raven|Edgar Allan Poe|poem
The Jungle Book|Rudyard Kipling|story collection
The Call of the Wild|Jack London|novel
Uncle Tom's Cabin|Harriet Beecher Stowe|novel
The Scarlet Letter|Nathaniel Hawthorne|novel
Rebecca|Daphne du Maurier|novel
Gone with the Wind|Margaret Mitchell|novel
The Name of the Rose|Umberto Eco|novel
Norwegian Wood|Haruki Murakami|novel
The Tale of Genji|Murasaki Shikibu|novel
Midnight's Children|Salman Rushdie|novel
Wolf Hall|Hilary Mantel|novel
The Remains of the Day|Kazuo Ishiguro|novel
Atonement|Ian McEwan|novel
Brideshead Revisited|Evelyn Waugh|novel
Howards End|E. M. Forster|novel
A Passage to India|E. M. Forster|novel
Tess of the d'Urbervilles|Thomas Hardy|novel
Far from the Madding Crowd|Thomas Hardy|novel
Vanity Fair|William Makepeace Thackeray|novel
The Master and Margarita|Mikhail Bulgakov|novel
Doctor Zhivago|Boris Pasternak|novel
Fathers and Sons|Ivan Turgenev|novel
Dead Souls|Nikolai Gogol|novel
The Tin Drum|Günter Grass|novel
The Magic Mountain|Thomas Mann|novel
Siddhartha|Hermann Hesse|novel
Candide|Voltaire|novella
Germinal|Émile Zola|novel
The Plague|Albert Camus|novel
Blindness|José Saramago|novel
Pedro Páramo|Juan Rulfo|novel
Their Eyes Were Watching God|Zora Neale Hurston|novel
On the Road|Jack Kerouac|novel
Cat's Cradle|Kurt Vonnegut|novel
"""

_ARTWORKS = """
Mona Lisa|Leonardo da Vinci
The Last Supper|Leonardo da Vinci
The Starry Night|Vincent van Gogh
Sunflowers|Vincent van Gogh
The Night Watch|Rembrandt
Girl with a Pearl Earring|Johannes Vermeer
The Birth of Venus|Sandro Botticelli
Guernica|Pablo Picasso
The Persistence of Memory|Salvador Dalí
The Scream|Edvard Munch
The Kiss|Gustav Klimt
Impression, Sunrise|Claude Monet
The Creation of Adam|Michelangelo
The School of Athens|Raphael
Las Meninas|Diego Velázquez
The Garden of Earthly Delights|Hieronymus Bosch
American Gothic|Grant Wood
Nighthawks|Edward Hopper
The Great Wave off Kanagawa|Katsushika Hokusai
Liberty Leading the People|Eugène Delacroix
The Arnolfini Portrait|Jan van Eyck
Luncheon of the Boating Party|Pierre-Auguste Renoir
The Son of Man|René Magritte
Campbell's Soup Cans|Andy Warhol
The Hay Wain|John Constable
The Fighting Temeraire|J. M. W. Turner
The Raft of the Medusa|Théodore Géricault
"""

_MUSIC = """
The Magic Flute|Wolfgang Amadeus Mozart
Don Giovanni|Wolfgang Amadeus Mozart
The Four Seasons|Antonio Vivaldi
Moonlight Sonata|Ludwig van Beethoven
Messiah|George Frideric Handel
Water Music|George Frideric Handel
Brandenburg Concertos|Johann Sebastian Bach
The Nutcracker|Pyotr Ilyich Tchaikovsky
Swan Lake|Pyotr Ilyich Tchaikovsky
The Rite of Spring|Igor Stravinsky
Boléro|Maurice Ravel
Clair de lune|Claude Debussy
The Planets|Gustav Holst
Carmen|Georges Bizet
La traviata|Giuseppe Verdi
Aida|Giuseppe Verdi
Madama Butterfly|Giacomo Puccini
The Ring of the Nibelung|Richard Wagner
The Barber of Seville|Gioachino Rossini
Rhapsody in Blue|George Gershwin
The Blue Danube|Johann Strauss II
Peer Gynt|Edvard Grieg
Symphonie fantastique|Hector Berlioz
Pictures at an Exhibition|Modest Mussorgsky
The Lark Ascending|Ralph Vaughan Williams
Appalachian Spring|Aaron Copland
Gymnopédies|Erik Satie
"""

_INSTRUMENTS = """
violin|Strings
viola|Strings
cello|Strings
double bass|Strings
harp|Strings
flute|Woodwind
piccolo|Woodwind
oboe|Woodwind
cor anglais|Woodwind
clarinet|Woodwind
bassoon|Woodwind
saxophone|Woodwind
trumpet|Brass
trombone|Brass
French horn|Brass
tuba|Brass
euphonium|Brass
timpani|Percussion
xylophone|Percussion
snare drum|Percussion
cymbals|Percussion
glockenspiel|Percussion
piano|Keyboards
harpsichord|Keyboards
pipe organ|Keyboards
"""

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

_ACRONYMS = """
HTTP|Hypertext Transfer Protocol
HTML|HyperText Markup Language
CSS|Cascading Style Sheets
URL|Uniform Resource Locator
DNS|Domain Name System
TCP|Transmission Control Protocol
UDP|User Datagram Protocol
FTP|File Transfer Protocol
SMTP|Simple Mail Transfer Protocol
SSH|Secure Shell
SQL|Structured Query Language
API|Application Programming Interface
CPU|Central Processing Unit
GPU|Graphics Processing Unit
RAM|Random-Access Memory
SSD|Solid-State Drive
USB|Universal Serial Bus
LAN|Local Area Network
VPN|Virtual Private Network
JSON|JavaScript Object Notation
XML|Extensible Markup Language
PDF|Portable Document Format
GUI|Graphical User Interface
IDE|Integrated Development Environment
BIOS|Basic Input/Output System
DHCP|Dynamic Host Configuration Protocol
NAT|Network Address Translation
ASCII|American Standard Code for Information Interchange
JPEG|Joint Photographic Experts Group
GIF|Graphics Interchange Format
PNG|Portable Network Graphics
NFC|Near-Field Communication
LED|Light-Emitting Diode
LCD|Liquid-Crystal Display
RAID|Redundant Array of Independent Disks
ISP|Internet Service Provider
IMAP|Internet Message Access Protocol
TLS|Transport Layer Security
CDN|Content Delivery Network
CLI|Command-Line Interface
OCR|Optical Character Recognition
DMA|Direct Memory Access
ALU|Arithmetic Logic Unit
"""

_LANGUAGES = """
Python|Guido van Rossum
C|Dennis Ritchie
Java|James Gosling
JavaScript|Brendan Eich
Ruby|Yukihiro Matsumoto
Perl|Larry Wall
PHP|Rasmus Lerdorf
Lisp|John McCarthy
Pascal|Niklaus Wirth
Rust|Graydon Hoare
Scala|Martin Odersky
Erlang|Joe Armstrong
Tcl|John Ousterhout
Elixir|José Valim
Clojure|Rich Hickey
Prolog|Alain Colmerauer
"""

_PORTS = """
HTTP|80
SSH|22
Telnet|23
SMTP|25
DNS|53
IMAP|143
RDP|3389
MySQL|3306
PostgreSQL|5432
"""

_PRODUCTS = """
Windows|Microsoft
Excel|Microsoft
Xbox|Microsoft
Visual Studio Code|Microsoft
macOS|Apple
iPhone|Apple
Safari|Apple
Android|Google
Chrome|Google
Gmail|Google
Photoshop|Adobe
Illustrator|Adobe
PlayStation|Sony
Walkman|Sony
Kindle|Amazon
Alexa|Amazon
Pentium|Intel
Ryzen|AMD
GeForce|Nvidia
Firefox|Mozilla
Thunderbird|Mozilla
Game Boy|Nintendo
Wii|Nintendo
"""

_GODS = """
Zeus|Jupiter
Hera|Juno
Poseidon|Neptune
Hades|Pluto
Ares|Mars
Aphrodite|Venus
Athena|Minerva
Artemis|Diana
Hermes|Mercury
Hephaestus|Vulcan
Demeter|Ceres
Dionysus|Bacchus
Hestia|Vesta
Eros|Cupid
Persephone|Proserpina
Cronus|Saturn
"""

_SPORTS = """
association football|11
basketball|5
volleyball|6
rugby union|15
ice hockey|6
water polo|7
netball|7
Australian rules football|18
"""

TABLES: dict[str, Table] = {
    "works": table("literature", "work|author|form", _WORKS),
    "artworks": table("art and music", "work|artist", _ARTWORKS),
    "music": table("art and music", "work|composer", _MUSIC),
    "instruments": table("art and music", "instrument|family", _INSTRUMENTS),
    "people": table("history of science and exploration", "person|did|feat", _PEOPLE),
    "events": table("history", "year|did|noun", _EVENTS),
    "acronyms": table("computing", "acronym|expansion", _ACRONYMS),
    "languages": table("computing", "language|creator", _LANGUAGES),
    "ports": table("computing", "protocol|port", _PORTS),
    "products": table("computing", "product|company", _PRODUCTS),
    "gods": table("mythology", "greek|roman", _GODS),
    "sports": table("sport", "sport|players", _SPORTS),
}
