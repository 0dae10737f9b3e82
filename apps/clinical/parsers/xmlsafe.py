"""Hardened XML parsing: no DTD entities, no network, no external files, no huge trees."""

from __future__ import annotations

from xml.etree.ElementTree import ParseError as ExpatError

import defusedxml.ElementTree
from defusedxml import DefusedXmlException
from lxml import etree

from apps.clinical.parsing import ParseError


def hardened_parser() -> etree.XMLParser:
    """lxml parser that never resolves entities, loads a DTD or reaches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(content: bytes) -> etree._Element:
    """The root element of ``content``, refusing entity tricks before lxml sees the bytes.

    defusedxml (expat) is the gate: any entity declaration (billion laughs, external
    entity, external DTD reference) raises before anything is expanded. lxml then builds
    the tree with a parser that could not resolve an entity anyway (defence in depth) and
    gives us parent links and XPath for the extraction.
    """
    try:
        defusedxml.ElementTree.fromstring(content)
    except DefusedXmlException as error:
        raise ParseError("xml_entities", type(error).__name__) from error
    except (ExpatError, ValueError) as error:
        raise ParseError("malformed_xml", str(error)) from error
    try:
        return etree.fromstring(content, hardened_parser())
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ParseError("malformed_xml", str(error)) from error


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""
