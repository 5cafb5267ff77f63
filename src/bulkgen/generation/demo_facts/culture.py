"""Culture: literature, art, music, mythology and sport."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, table

__all__ = ["FORMS", "TABLES"]

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
    "gods": table("mythology", "greek|roman", _GODS),
    "sports": table("sport", "sport|players", _SPORTS),
}

FORMS = (
    Form(
        "works",
        "Who wrote the {form} {work}?",
        "author",
        "{work} was written by {author}.",
        other="{author} wrote {work}",
        key="author",
    ),
    Form(
        "works",
        "Which of these works was written by {author}?",
        "work",
        "{author} wrote the {form} {work}.",
        other="{work} is by {author}",
        key="author",
    ),
    Form(
        "artworks",
        "Which artist created {work}?",
        "artist",
        "{work} is by {artist}.",
        other="{artist} created {work}",
        key="artist",
    ),
    Form(
        "artworks",
        "Which famous artwork is by {artist}?",
        "work",
        "{artist} created {work}.",
        other="{work} is by {artist}",
        key="artist",
    ),
    Form(
        "music",
        "Which composer wrote {work}?",
        "composer",
        "{work} was composed by {composer}.",
        other="{composer} composed {work}",
        key="composer",
    ),
    Form(
        "music",
        "Which of these pieces did {composer} compose?",
        "work",
        "{composer} composed {work}.",
        other="{work} is by {composer}",
        key="composer",
    ),
    Form(
        "instruments",
        "To which family of instruments does the {instrument} belong?",
        "family",
        "The {instrument} is in the {family_lc} family.",
        note="The {instrument} belongs to none of the other families listed.",
        key="instrument",
    ),
    Form(
        "gods",
        "Who was {greek}'s counterpart in Roman religion?",
        "roman",
        "The Romans identified {greek} with {roman}.",
        other="{roman} is the Roman counterpart of {greek}",
        key="roman",
    ),
    Form(
        "gods",
        "Who was {roman}'s counterpart in Greek religion?",
        "greek",
        "The Greeks knew {roman} as {greek}.",
        other="{greek} is the Greek counterpart of {roman}",
        key="greek",
    ),
    Form(
        "sports",
        "How many players start for each side in {sport}?",
        "players",
        "A {sport} side starts with {players} players.",
        other="{players} is the number a {sport} side starts with",
        key="sport",
    ),
)
