"""Countries: capitals, continents, official languages and currencies."""

from __future__ import annotations

from bulkgen.generation.demo_facts.table import Form, Table, table

__all__ = ["FORMS", "TABLES"]

_COUNTRIES = """
Albania|Tirana|Europe|Albanian|Albanian lek
Austria|Vienna|Europe|German|euro
Belgium|Brussels|Europe||euro
Bulgaria|Sofia|Europe|Bulgarian|euro
Croatia|Zagreb|Europe|Croatian|euro
Czechia|Prague|Europe|Czech|Czech koruna
Denmark|Copenhagen|Europe||Danish krone
Estonia|Tallinn|Europe|Estonian|euro
Finland|Helsinki|Europe||euro
France|Paris|Europe|French|euro
Germany|Berlin|Europe|German|euro
Greece|Athens|Europe|Greek|euro
Hungary|Budapest|Europe|Hungarian|Hungarian forint
Iceland|Reykjavík|Europe|Icelandic|Icelandic króna
Ireland|Dublin|Europe||euro
Italy|Rome|Europe|Italian|euro
Latvia|Riga|Europe|Latvian|euro
Lithuania|Vilnius|Europe|Lithuanian|euro
the Netherlands|Amsterdam|Europe|Dutch|euro
Norway|Oslo|Europe|Norwegian|Norwegian krone
Poland|Warsaw|Europe|Polish|Polish złoty
Portugal|Lisbon|Europe|Portuguese|euro
Romania|Bucharest|Europe|Romanian|Romanian leu
Serbia|Belgrade|Europe|Serbian|Serbian dinar
Slovakia|Bratislava|Europe|Slovak|euro
Slovenia|Ljubljana|Europe|Slovene|euro
Spain|Madrid|Europe|Spanish|euro
Sweden|Stockholm|Europe|Swedish|Swedish krona
Switzerland|Bern|Europe||Swiss franc
Ukraine|Kyiv|Europe|Ukrainian|Ukrainian hryvnia
the United Kingdom|London|Europe||pound sterling
Belarus|Minsk|Europe||Belarusian ruble
North Macedonia|Skopje|Europe||Macedonian denar
Bosnia and Herzegovina|Sarajevo|Europe||convertible mark
Montenegro|Podgorica|Europe|Montenegrin|euro
Malta|Valletta|Europe||euro
Liechtenstein|Vaduz|Europe|German|Swiss franc
Russia|Moscow|Europe|Russian|Russian ruble
Afghanistan|Kabul|Asia||Afghan afghani
Bangladesh|Dhaka|Asia|Bengali|Bangladeshi taka
Bhutan|Thimphu|Asia|Dzongkha|Bhutanese ngultrum
Cambodia|Phnom Penh|Asia|Khmer|Cambodian riel
China|Beijing|Asia||renminbi
India|New Delhi|Asia||Indian rupee
Iran|Tehran|Asia|Persian|Iranian rial
Iraq|Baghdad|Asia||Iraqi dinar
Japan|Tokyo|Asia||Japanese yen
Jordan|Amman|Asia|Arabic|Jordanian dinar
Kyrgyzstan|Bishkek|Asia||Kyrgyz som
Laos|Vientiane|Asia|Lao|Lao kip
Lebanon|Beirut|Asia|Arabic|Lebanese pound
Malaysia|Kuala Lumpur|Asia|Malay|Malaysian ringgit
Mongolia|Ulaanbaatar|Asia|Mongolian|Mongolian tögrög
Myanmar|Naypyidaw|Asia|Burmese|Myanmar kyat
Nepal|Kathmandu|Asia|Nepali|Nepalese rupee
North Korea|Pyongyang|Asia|Korean|North Korean won
South Korea|Seoul|Asia|Korean|South Korean won
Oman|Muscat|Asia|Arabic|Omani rial
Pakistan|Islamabad|Asia||Pakistani rupee
the Philippines|Manila|Asia||Philippine peso
Qatar|Doha|Asia|Arabic|Qatari riyal
Saudi Arabia|Riyadh|Asia|Arabic|Saudi riyal
Syria|Damascus|Asia|Arabic|Syrian pound
Tajikistan|Dushanbe|Asia|Tajik|Tajikistani somoni
Thailand|Bangkok|Asia|Thai|Thai baht
Turkmenistan|Ashgabat|Asia|Turkmen|Turkmenistan manat
the United Arab Emirates|Abu Dhabi|Asia|Arabic|UAE dirham
Uzbekistan|Tashkent|Asia|Uzbek|Uzbekistani sum
Vietnam|Hanoi|Asia|Vietnamese|Vietnamese dong
Bahrain|Manama|Asia|Arabic|Bahraini dinar
Brunei|Bandar Seri Begawan|Asia|Malay|Brunei dollar
Timor-Leste|Dili|Asia||US dollar
Turkey|Ankara|Asia|Turkish|Turkish lira
Kazakhstan|Astana|Asia||Kazakhstani tenge
Indonesia||Asia|Indonesian|Indonesian rupiah
Algeria|Algiers|Africa||Algerian dinar
Angola|Luanda|Africa|Portuguese|Angolan kwanza
Botswana|Gaborone|Africa||Botswana pula
Burkina Faso|Ouagadougou|Africa
Burundi|Gitega|Africa
Cameroon|Yaoundé|Africa
Chad|N'Djamena|Africa
Egypt|Cairo|Africa|Arabic|Egyptian pound
Eritrea|Asmara|Africa
Ethiopia|Addis Ababa|Africa||Ethiopian birr
Gabon|Libreville|Africa|French
Ghana|Accra|Africa|English|Ghanaian cedi
Guinea|Conakry|Africa|French|Guinean franc
Kenya|Nairobi|Africa||Kenyan shilling
Lesotho|Maseru|Africa||Lesotho loti
Liberia|Monrovia|Africa|English|Liberian dollar
Libya|Tripoli|Africa|Arabic|Libyan dinar
Madagascar|Antananarivo|Africa||Malagasy ariary
Malawi|Lilongwe|Africa||Malawian kwacha
Mali|Bamako|Africa
Mauritania|Nouakchott|Africa|Arabic|Mauritanian ouguiya
Morocco|Rabat|Africa||Moroccan dirham
Mozambique|Maputo|Africa|Portuguese|Mozambican metical
Namibia|Windhoek|Africa|English|Namibian dollar
Niger|Niamey|Africa
Nigeria|Abuja|Africa|English|Nigerian naira
Rwanda|Kigali|Africa
Senegal|Dakar|Africa|French
Sierra Leone|Freetown|Africa|English|Sierra Leonean leone
Somalia|Mogadishu|Africa
South Sudan|Juba|Africa|English|South Sudanese pound
Tanzania|Dodoma|Africa||Tanzanian shilling
Togo|Lomé|Africa|French
Tunisia|Tunis|Africa|Arabic|Tunisian dinar
Uganda|Kampala|Africa||Ugandan shilling
Zambia|Lusaka|Africa|English|Zambian kwacha
Zimbabwe|Harare|Africa
Cabo Verde|Praia|Africa|Portuguese|Cape Verdean escudo
Mauritius|Port Louis|Africa||Mauritian rupee
the Seychelles|Victoria|Africa||Seychellois rupee
the Comoros|Moroni|Africa||Comorian franc
Canada|Ottawa|North America||Canadian dollar
the United States|Washington, D.C.|North America||US dollar
Cuba|Havana|North America|Spanish|Cuban peso
Jamaica|Kingston|North America|English|Jamaican dollar
Haiti|Port-au-Prince|North America||Haitian gourde
Honduras|Tegucigalpa|North America|Spanish|Honduran lempira
Nicaragua|Managua|North America|Spanish|Nicaraguan córdoba
Costa Rica|San José|North America|Spanish|Costa Rican colón
Belize|Belmopan|North America|English
the Bahamas|Nassau|North America|English|Bahamian dollar
Barbados|Bridgetown|North America|English|Barbadian dollar
Trinidad and Tobago|Port of Spain|North America|English|Trinidad and Tobago dollar
Argentina|Buenos Aires|South America||Argentine peso
Brazil|Brasília|South America|Portuguese|Brazilian real
Chile|Santiago|South America||Chilean peso
Colombia|Bogotá|South America|Spanish|Colombian peso
Ecuador|Quito|South America||US dollar
Guyana|Georgetown|South America|English|Guyanese dollar
Paraguay|Asunción|South America||Paraguayan guaraní
Peru|Lima|South America||Peruvian sol
Suriname|Paramaribo|South America|Dutch|Surinamese dollar
Uruguay|Montevideo|South America||Uruguayan peso
Venezuela|Caracas|South America|Spanish|Venezuelan bolívar
Australia|Canberra|Oceania||Australian dollar
New Zealand|Wellington|Oceania||New Zealand dollar
Fiji|Suva|Oceania||Fijian dollar
Papua New Guinea|Port Moresby|Oceania||Papua New Guinean kina
Samoa|Apia|Oceania||Samoan tālā
Tonga|Nukuʻalofa|Oceania||Tongan paʻanga
Vanuatu|Port Vila|Oceania||Vanuatu vatu
the Solomon Islands|Honiara|Oceania|English|Solomon Islands dollar
Micronesia|Palikir|Oceania|English|US dollar
the Marshall Islands|Majuro|Oceania||US dollar
Tuvalu|Funafuti|Oceania||Australian dollar
Armenia|Yerevan||Armenian|Armenian dram
Georgia|Tbilisi||Georgian|Georgian lari
Azerbaijan|Baku||Azerbaijani|Azerbaijani manat
Cyprus|Nicosia|||euro
Moldova|Chișinău|||Moldovan leu
the Maldives|Malé|Asia|Dhivehi|Maldivian rufiyaa
Dominica|Roseau|North America|English|East Caribbean dollar
Saint Lucia|Castries|North America|English|East Caribbean dollar
Saint Kitts and Nevis|Basseterre|North America|English|East Caribbean dollar
Saint Vincent and the Grenadines|Kingstown|North America|English|East Caribbean dollar
"""

TABLES: dict[str, Table] = {
    "countries": table("geography", "country|capital|continent|language|currency", _COUNTRIES),
}

FORMS = (
    Form(
        "countries",
        "What is the capital city of {country}?",
        "capital",
        "The capital of {country} is {capital}.",
        other="{capital} is the capital of {country}",
        key="country",
        group="continent",
    ),
    Form(
        "countries",
        "{capital} is the capital of which country?",
        "country",
        "{capital} is the capital city of {country}.",
        other="{country} has {capital} as its capital",
        key="capital",
        group="continent",
    ),
    Form(
        "countries",
        "On which continent is the capital of {country}?",
        "continent",
        "{capital}, the capital of {country}, lies in {continent}.",
        note="The other options are continents where {capital} does not lie.",
        key="country",
        when=lambda row: bool(row["capital"]),
    ),
    Form(
        "countries",
        "What is the official language of {country}?",
        "language",
        "{language} is the official language of {country}.",
        other="{language} is the official language of {country}",
        key="country",
    ),
    Form(
        "countries",
        "What is the currency of {country}?",
        "currency",
        "The currency of {country} is the {currency}.",
        other="the {currency} is the currency of {country}",
        key="country",
    ),
)
