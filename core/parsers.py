"""The API's request parser. Its own module: DRF reads DEFAULT_PARSER_CLASSES while defining
APIView, so a module that imports rest_framework.views (core.api) cannot hold it."""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's parser, but a body nested deeper than Python's recursion allows is a 400 like any other
    malformed body (json raises RecursionError, which DRF does not catch: a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
