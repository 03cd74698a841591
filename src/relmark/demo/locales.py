"""Who lives where: names, places and conventions for the six locales relmark serves.

Surnames come in male and female forms where the language inflects them (Kazakh, Ukrainian,
Slovene); Kazakh and Ukrainian names are written in Cyrillic, as customers type them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    city: str
    region: str
    postcode_prefix: str


@dataclass(frozen=True)
class LocaleData:
    language: str
    country: str
    timezone: str
    weight: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames_male: tuple[str, ...]
    surnames_female: tuple[str, ...]
    places: tuple[Place, ...]
    email_domains: tuple[str, ...]
    streets: tuple[str, ...]
    postcode_digits: int = 5


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


EN = LocaleData(
    "en",
    "GB",
    "Europe/London",
    0.24,
    _split(
        "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Leo Alfie "
        "Henry Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel"
    ),
    _split(
        "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie "
        "Ivy Freya Harper Willow Charlotte Jessica Rosie Daisy Alice Florence Eleanor"
    ),
    _split(
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson "
        "Evans Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis Harris"
    ),
    (),
    (
        Place("London", "England", "SW"),
        Place("Manchester", "England", "M"),
        Place("Bristol", "England", "BS"),
        Place("Leeds", "England", "LS"),
        Place("Edinburgh", "Scotland", "EH"),
        Place("Cardiff", "Wales", "CF"),
    ),
    ("gmail.com", "outlook.com", "btinternet.com", "yahoo.co.uk", "icloud.com"),
    ("High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane"),
    0,
)

MS = LocaleData(
    "ms",
    "MY",
    "Asia/Kuala_Lumpur",
    0.20,
    _split(
        "Muhammad Ahmad Amir Hafiz Faiz Irfan Haziq Danial Aiman Syafiq Zulkifli Rizal "
        "Hakim Azman Farhan Nabil Razak Iskandar Firdaus Syahmi Arif Hazwan Luqman Aqil"
    ),
    _split(
        "Nur Siti Aisyah Nurul Farah Aina Alya Sofea Balqis Hana Iman Zara Syafiqah Amira "
        "Liyana Nabila Aqilah Izzati Hidayah Khadijah Maryam Wardah Husna Damia"
    ),
    _split(
        "Abdullah Ibrahim Ismail Hassan Rahman Yusof Osman Ahmad Hamid Salleh Mohamad "
        "Kassim Razali Omar Jaafar Zainal Aziz Mahmud Sulaiman Bakar"
    ),
    (),
    (
        Place("Kuala Lumpur", "Wilayah Persekutuan", "50"),
        Place("Shah Alam", "Selangor", "40"),
        Place("George Town", "Pulau Pinang", "10"),
        Place("Johor Bahru", "Johor", "80"),
        Place("Ipoh", "Perak", "30"),
        Place("Kota Kinabalu", "Sabah", "88"),
        Place("Kuching", "Sarawak", "93"),
    ),
    ("gmail.com", "yahoo.com.my", "hotmail.com", "outlook.com"),
    (
        "Jalan Ampang",
        "Jalan Tun Razak",
        "Jalan Bukit Bintang",
        "Jalan Sultan Ismail",
        "Lorong Maarof",
        "Jalan Raja Laut",
    ),
)

KK = LocaleData(
    "kk",
    "KZ",
    "Asia/Almaty",
    0.13,
    _split(
        "Нұрсұлтан Ерлан Асқар Дәурен Ержан Арман Бауыржан Дархан Ерболат Қайрат Мұрат "
        "Нұрлан Серік Талғат Әлібек Ернар Жандос Айдос Бекзат Нұрбол Ақжол Мирас Санжар"
    ),
    _split(
        "Айгерім Гүлнар Динара Жанар Әсел Мадина Ақбота Аружан Дана Жансая Мөлдір Назерке "
        "Салтанат Томирис Ұлжан Айжан Балжан Гүлмира Сәуле Камила Аяулым Іңкәр Алуа"
    ),
    _split(
        "Әбішев Серіков Жұмабаев Нұрланов Қасымов Ахметов Омаров Сейітов Бекмұханов "
        "Тоқаев Мұқанов Сәрсенбаев Жақсылықов Исаев Оспанов Байжанов Ерғалиев Тұрсынов"
    ),
    _split(
        "Әбішева Серікова Жұмабаева Нұрланова Қасымова Ахметова Омарова Сейітова "
        "Бекмұханова Тоқаева Мұқанова Сәрсенбаева Жақсылықова Исаева Оспанова Байжанова "
        "Ерғалиева Тұрсынова"
    ),
    (
        Place("Алматы", "Алматы", "050"),
        Place("Астана", "Астана", "010"),
        Place("Шымкент", "Шымкент", "160"),
        Place("Қарағанды", "Қарағанды облысы", "100"),
        Place("Ақтөбе", "Ақтөбе облысы", "030"),
    ),
    ("mail.kz", "gmail.com", "mail.ru", "inbox.kz", "yandex.kz"),
    ("Абай даңғылы", "Төле би көшесі", "Достық даңғылы", "Қабанбай батыр көшесі", "Сәтпаев көшесі"),
    6,
)

TL = LocaleData(
    "tl",
    "PH",
    "Asia/Manila",
    0.15,
    _split(
        "Juan Jose Mark John Paul Christian Joshua Angelo Miguel Gabriel Carlo Rafael "
        "Emmanuel Jericho Renz Kristoffer Nathaniel Jomar Ramon Andres Dante Ronaldo"
    ),
    _split(
        "Maria Angel Princess Mary Joy Kristine Jasmine Andrea Nicole Camille Bea Aira "
        "Ligaya Marites Rosario Luzviminda Althea Trisha Danica Jhoanna Rowena Cherry"
    ),
    (
        *_split(
            "Santos Reyes Cruz Bautista Ocampo Garcia Mendoza Torres Aquino Ramos Villanueva "
            "Castillo Rivera Flores Gonzales Mercado Navarro Pascual Soriano"
        ),
        "dela Cruz",
    ),
    (),
    (
        Place("Quezon City", "Metro Manila", "11"),
        Place("Manila", "Metro Manila", "10"),
        Place("Cebu City", "Cebu", "60"),
        Place("Davao City", "Davao del Sur", "80"),
        Place("Makati", "Metro Manila", "12"),
        Place("Iloilo City", "Iloilo", "50"),
    ),
    ("gmail.com", "yahoo.com", "outlook.ph", "ymail.com"),
    (
        "Rizal Avenue",
        "Mabini Street",
        "Bonifacio Street",
        "Katipunan Avenue",
        "Ayala Avenue",
        "Quezon Boulevard",
    ),
    4,
)

UK = LocaleData(
    "uk",
    "UA",
    "Europe/Kyiv",
    0.15,
    _split(
        "Олександр Андрій Дмитро Максим Іван Богдан Тарас Олег Сергій Микола Юрій Василь "
        "Назар Ярослав Остап Віталій Роман Степан Артем Денис Євген Григорій"
    ),
    _split(
        "Олена Оксана Ірина Наталія Тетяна Юлія Марія Анна Соломія Софія Катерина Дарина "
        "Ганна Людмила Вікторія Христина Ярина Леся Зоряна Олеся Мирослава Галина"
    ),
    _split(
        "Коваленко Шевченко Бондаренко Ткаченко Кравченко Олійник Мельник Бойко Поліщук "
        "Лисенко Марченко Савченко Руденко Мороз Гончаренко Петренко Кравець Ковальчук "
        "Грищенко Сидоренко Литвиненко Павленко"
    ),
    (),
    (
        Place("Київ", "Київ", "01"),
        Place("Львів", "Львівська область", "79"),
        Place("Одеса", "Одеська область", "65"),
        Place("Харків", "Харківська область", "61"),
        Place("Дніпро", "Дніпропетровська область", "49"),
        Place("Вінниця", "Вінницька область", "21"),
    ),
    ("ukr.net", "gmail.com", "i.ua", "meta.ua"),
    (
        "вулиця Хрещатик",
        "вулиця Шевченка",
        "проспект Перемоги",
        "вулиця Франка",
        "вулиця Лесі Українки",
    ),
)

SL = LocaleData(
    "sl",
    "SI",
    "Europe/Ljubljana",
    0.13,
    _split(
        "Luka Jan Nejc Žiga Anže Matej Rok Tilen Jure Gašper Blaž Miha Aljaž Žan Urban "
        "Domen Matic Primož Janez Marko Tomaž Boštjan"
    ),
    _split(
        "Nika Eva Ana Maja Sara Lara Zala Neža Špela Tjaša Urška Katja Mojca Petra Barbara "
        "Tina Manca Živa Pia Ajda Vesna Metka"
    ),
    _split(
        "Novak Horvat Kovačič Krajnc Zupančič Potočnik Kovač Mlakar Kos Vidmar Golob Turk "
        "Božič Kralj Korošec Zupan Bizjak Hribar Kotnik Rozman"
    ),
    (),
    (
        Place("Ljubljana", "Osrednjeslovenska", "1"),
        Place("Maribor", "Podravska", "2"),
        Place("Celje", "Savinjska", "3"),
        Place("Kranj", "Gorenjska", "4"),
        Place("Koper", "Obalno-kraška", "6"),
        Place("Novo mesto", "Jugovzhodna Slovenija", "8"),
    ),
    ("gmail.com", "siol.net", "t-2.net", "amis.net", "hotmail.com"),
    ("Slovenska cesta", "Celovška cesta", "Prešernova ulica", "Trubarjeva cesta", "Gosposka ulica"),
    4,
)

LOCALES: tuple[LocaleData, ...] = (EN, MS, KK, TL, UK, SL)

#: Cyrillic → Latin, as Kazakh and Ukrainian customers write their names in e-mail addresses.
CYRILLIC_TO_LATIN = {
    "а": "a",
    "ә": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "ғ": "gh",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ye",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "yi",
    "й": "y",
    "к": "k",
    "қ": "q",
    "л": "l",
    "м": "m",
    "н": "n",
    "ң": "ng",
    "о": "o",
    "ө": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ұ": "u",
    "ү": "u",
    "ф": "f",
    "х": "kh",
    "һ": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    "'": "",
    "’": "",
}
LATIN_FOLD = str.maketrans("čšžćđČŠŽĆĐ", "cszcdCSZCD")


def to_latin(text: str) -> str:
    """A readable Latin spelling of a Cyrillic (or Slovene) name, keeping capitals."""
    out = []
    for char in text:
        latin = CYRILLIC_TO_LATIN.get(char.lower())
        if latin is None:
            out.append(char)
        else:
            out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out).translate(LATIN_FOLD)
