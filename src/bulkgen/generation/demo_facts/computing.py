"""Computing: abbreviations, language creators, default ports and products."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, table

__all__ = ["FORMS", "TABLES"]

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

TABLES: dict[str, Table] = {
    "acronyms": table("computing", "acronym|expansion", _ACRONYMS),
    "languages": table("computing", "language|creator", _LANGUAGES),
    "ports": table("computing", "protocol|port", _PORTS),
    "products": table("computing", "product|company", _PRODUCTS),
}

FORMS = (
    Form(
        "acronyms",
        "In computing, what does the abbreviation {acronym} stand for?",
        "expansion",
        "{acronym} stands for {expansion}.",
        other="{expansion} is abbreviated {acronym}",
        key="acronym",
    ),
    Form(
        "acronyms",
        "Which abbreviation stands for {expansion}?",
        "acronym",
        "{expansion} is abbreviated {acronym}.",
        other="{acronym} stands for {expansion}",
        key="acronym",
    ),
    Form(
        "languages",
        "Who created the programming language {language}?",
        "creator",
        "{language} was created by {creator}.",
        other="{creator} created {language}",
        key="creator",
    ),
    Form(
        "languages",
        "Which programming language was created by {creator}?",
        "language",
        "{creator} created {language}.",
        other="{language} was created by {creator}",
        key="creator",
    ),
    Form(
        "ports",
        "Which port number does {protocol} use by default?",
        "port",
        "The default port of {protocol} is {port}.",
        other="{port} is the default port of {protocol}",
        key="protocol",
    ),
    Form(
        "products",
        "Which company produced {product}?",
        "company",
        "{product} is a product of {company}.",
        other="{company} produced {product}",
        key="company",
    ),
)
