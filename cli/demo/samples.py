"""The demo's sample countries, cities and files.

The cities are real (their UN/LOCODEs and names); everything they "submit" is sample text that
says so, and no figure is given that could be read as an official statistic. Each country's
adapted framework rewords criterion A.a with the country's own planning instruments, which is
the kind of contextualisation DESIGN §2 expects of a national node.
"""

from __future__ import annotations

from dataclasses import dataclass

SILVER = "qualification"
GOLD = "evidence-based-processes"


@dataclass(frozen=True, slots=True)
class City:
    locode: str
    name: str
    region: str
    languages: tuple[str, ...]
    priorities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    framework_id: str
    contextualised_code: str
    contextualised_text: str
    cities: tuple[City, ...]

    @property
    def node_name(self) -> str:
        return f"{self.name} SDG Cities national node"


KENYA = Country(
    code="KE",
    name="Kenya",
    framework_id="sdgcities-ke",
    contextualised_code="A.a",
    contextualised_text=(
        "The city has taken stock of relevant national, county and sectoral policies, including "
        "Kenya Vision 2030, the county integrated development plan and the county spatial plan, "
        "local data, strategic frameworks and action plans and progress towards the achievement "
        "of the Goals;"
    ),
    cities=(
        City(
            "KE-NBO",
            "Nairobi",
            "Nairobi City County",
            ("en", "sw"),
            ("affordable housing", "public transport"),
        ),
        City(
            "KE-MBA",
            "Mombasa",
            "Mombasa County",
            ("en", "sw"),
            ("port economy", "coastal resilience"),
        ),
        City("KE-KIS", "Kisumu", "Kisumu County", ("en", "sw"), ("lake basin", "urban water")),
    ),
)

GHANA = Country(
    code="GH",
    name="Ghana",
    framework_id="sdgcities-gh",
    contextualised_code="A.a",
    contextualised_text=(
        "The city has taken stock of relevant national, regional and district policies, "
        "including the medium-term national development policy framework and the assembly's "
        "medium-term development plan, local data, strategic frameworks and action plans and "
        "progress towards the achievement of the Goals;"
    ),
    cities=(
        City("GH-ACC", "Accra", "Greater Accra", ("en",), ("sanitation", "flood management")),
        City("GH-KMS", "Kumasi", "Ashanti", ("en",), ("markets", "green spaces")),
    ),
)

COUNTRIES = (KENYA, GHANA)


def narrative(city: City, code: str) -> str:
    return (
        f"Sample answer written for the demo: how {city.name} meets criterion {code}, with the "
        "documents it attaches as evidence."
    )


def evidence_pdf(city: City, code: str) -> bytes:
    """A small, well-formed PDF, different for each city and criterion (evidence is stored by
    digest, so identical files would be one file)."""
    return (
        b"%PDF-1.4\n"
        + f"% SDG Cities demo: sample evidence of {city.locode} for {code}\n".encode()
        + b"1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )


def evidence_csv(city: City) -> bytes:
    """A sample data table for the gold stage's baseline-data criterion (no real figures)."""
    return (
        "domain,indicator,year,note\n"
        f"environmental,sample,2024,demo data for {city.locode}\n"
        f"social,sample,2024,demo data for {city.locode}\n"
    ).encode()
