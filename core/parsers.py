"""The API's request parser. Its own module: DRF reads DEFAULT_PARSER_CLASSES while defining
APIView, so a module that imports rest_framework.views (core.api) cannot hold it."""

import json

from rest_framework import exceptions, parsers

LONE_SURROGATE = (
    "JSON parse error - the body holds a lone surrogate (a UTF-16 escape from D800 to DFFF without its "
    "pair), which is not text."
)


def holds_lone_surrogate(data) -> bool:
    """Valid UTF-8 cannot carry a lone surrogate, so only a `\\udxxx` escape puts one in a parsed body:
    in a key, an unknown choice or any other text that an answer may echo (which could then not be
    encoded). The encoder walks the document in C."""
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


class JSONParser(parsers.JSONParser):
    """DRF's parser, but a body nested deeper than Python's recursion allows is a 400 like any other
    malformed body (json raises RecursionError, which DRF does not catch: a 500), and so is a body
    holding a lone surrogate (DRF refuses it in text fields, but echoed from a key or a choice it made
    the answer unencodable: a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
        if holds_lone_surrogate(data):
            raise exceptions.ParseError(LONE_SURROGATE)
        return data
