"""Places: capitals of US states and Canadian provinces, rivers and mountain peaks."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, table

__all__ = ["FORMS", "TABLES"]

_US_STATES = """
Alabama|Montgomery
Alaska|Juneau
Arizona|Phoenix
Arkansas|Little Rock
California|Sacramento
Colorado|Denver
Connecticut|Hartford
Delaware|Dover
Florida|Tallahassee
Georgia|Atlanta
Hawaii|Honolulu
Idaho|Boise
Illinois|Springfield
Indiana|Indianapolis
Iowa|Des Moines
Kansas|Topeka
Kentucky|Frankfort
Louisiana|Baton Rouge
Maine|Augusta
Maryland|Annapolis
Massachusetts|Boston
Michigan|Lansing
Minnesota|Saint Paul
Mississippi|Jackson
Missouri|Jefferson City
Montana|Helena
Nebraska|Lincoln
Nevada|Carson City
New Hampshire|Concord
New Jersey|Trenton
New Mexico|Santa Fe
New York|Albany
North Carolina|Raleigh
North Dakota|Bismarck
Ohio|Columbus
Oregon|Salem
Pennsylvania|Harrisburg
Rhode Island|Providence
South Carolina|Columbia
South Dakota|Pierre
Tennessee|Nashville
Texas|Austin
Utah|Salt Lake City
Vermont|Montpelier
Virginia|Richmond
Washington|Olympia
Wisconsin|Madison
Wyoming|Cheyenne
"""

_CANADA = """
Alberta|Edmonton|province
British Columbia|Victoria|province
Manitoba|Winnipeg|province
New Brunswick|Fredericton|province
Nova Scotia|Halifax|province
Ontario|Toronto|province
Prince Edward Island|Charlottetown|province
Saskatchewan|Regina|province
Northwest Territories|Yellowknife|territory
Nunavut|Iqaluit|territory
Yukon|Whitehorse|territory
"""

_RIVERS = """
Danube|Black Sea
Dnieper|Black Sea
Rhine|North Sea
Elbe|North Sea
Thames|North Sea
Nile|Mediterranean Sea
Rhône|Mediterranean Sea
Ebro|Mediterranean Sea
Mississippi|Gulf of Mexico
Rio Grande|Gulf of Mexico
Ganges|Bay of Bengal
Yangtze|East China Sea
Yellow River|Bohai Sea
Volga|Caspian Sea
Ural|Caspian Sea
Mekong|South China Sea
Indus|Arabian Sea
Yukon|Bering Sea
Vistula|Baltic Sea
Oder|Baltic Sea
Seine|English Channel
Niger|Gulf of Guinea
Irrawaddy|Andaman Sea
"""

_PEAKS = """
Mount Everest|Himalayas
Annapurna|Himalayas
Kangchenjunga|Himalayas
Mont Blanc|Alps
the Matterhorn|Alps
Zugspitze|Alps
Aconcagua|Andes
Chimborazo|Andes
Ojos del Salado|Andes
Mount Elbrus|Caucasus Mountains
Mount Kazbek|Caucasus Mountains
Mount Kosciuszko|Great Dividing Range
Ben Nevis|Grampian Mountains
Mount Whitney|Sierra Nevada
Mount Elbert|Rocky Mountains
Pikes Peak|Rocky Mountains
Mount Mitchell|Appalachian Mountains
Mount Rainier|Cascade Range
Mount Hood|Cascade Range
Gerlachovský štít|Tatra Mountains
Musala|Rila Mountains
"""

TABLES: dict[str, Table] = {
    "us_states": table("geography", "state|capital", _US_STATES),
    "canada": table("geography", "region|capital|kind", _CANADA),
    "rivers": table("geography", "river|mouth", _RIVERS),
    "peaks": table("geography", "peak|range", _PEAKS),
}

FORMS = (
    Form(
        "us_states",
        "What is the capital of the US state of {state}?",
        "capital",
        "The capital of {state} is {capital}.",
        other="{capital} is the capital of {state}",
        key="state",
    ),
    Form(
        "us_states",
        "{capital} is the capital of which US state?",
        "state",
        "{capital} is the state capital of {state}.",
        other="{state} has {capital} as its capital",
        key="capital",
    ),
    Form(
        "canada",
        "What is the capital of the Canadian {kind} of {region}?",
        "capital",
        "The capital of {region} is {capital}.",
        other="{capital} is the capital of {region}",
        key="region",
    ),
    Form(
        "canada",
        "{capital} is the capital of which Canadian province or territory?",
        "region",
        "{capital} is the capital of the {kind} of {region}.",
        other="{region} has {capital} as its capital",
        key="capital",
    ),
    Form(
        "rivers",
        "Into which body of water does the {river} flow?",
        "mouth",
        "The {river} flows into the {mouth}.",
        other="the {river} flows into the {mouth}",
        key="river",
    ),
    Form(
        "peaks",
        "Which chain of peaks includes {peak}?",
        "range",
        "{peak} is in the {range}.",
        other="{peak} is in the {range}",
        key="peak",
    ),
)
