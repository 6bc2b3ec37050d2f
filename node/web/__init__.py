"""The node's web pages for people (DESIGN §7): server-rendered, six languages, no outside
requests. Pages call the same services as the API; no business rule lives here.

Every page's path begins with its language, matched by the `lang` path convertor registered
here, before any module of the package declares a route with it.
"""

from starlette.convertors import Convertor, register_url_convertor

from .i18n import BY_CODE


class LanguageConvertor(Convertor[str]):
    regex = "|".join(BY_CODE)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("lang", LanguageConvertor())
