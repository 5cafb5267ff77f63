"""How untrusted text reaches the XML formats (Moodle XML, QTI): safely, as text only.

Generated text is untrusted. It reaches XML only through :mod:`xml.etree.ElementTree`,
which escapes it, so markup in it stays text and never becomes elements; characters XML 1.0
cannot hold (C0 controls but tab, LF and CR; lone surrogates; U+FFFE/U+FFFF) are replaced by
U+FFFD first, so every document written is well-formed UTF-8.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

__all__ = ["leaf", "xml_bytes", "xml_safe"]

# Everything XML 1.0 cannot carry: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def leaf(parent: ET.Element, tag: str, value: str) -> ET.Element:
    """A new ``<tag>`` child of ``parent`` holding ``value`` as text."""
    element = ET.SubElement(parent, tag)
    element.text = xml_safe(value)
    return element


def xml_bytes(root: ET.Element) -> bytes:
    """The indented document of ``root``, UTF-8 with an XML declaration."""
    ET.indent(root)
    # Serialised to str and encoded once: writing through an encoding stream is a third
    # slower. Every text went through xml_safe, so nothing unencodable is left.
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
