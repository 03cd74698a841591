"""The README of a subject-access export, in the customer's language (en, ms, kk, tl, uk, sl).

Plain text, not the dashboard's catalogues: the archive is read by the customer, who may
never see the dashboard, and its words must be there even when the web extra is not.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your personal data held by {shop}",
        "intro": "This archive holds everything {shop} keeps about you in its customer "
        "system (relmark), as of {when} UTC. It was prepared because you asked to see your "
        "data (right of access).",
        "twice": "Each part is given twice: all together in data.json, and one CSV file per "
        "part that opens in a spreadsheet.",
        "profiles_note": "You were known under these customer numbers, now joined into one: "
        "{ids}. This archive covers them all.",
        "files": "Files",
        "rows": "rows",
        "money": "Amounts are in the currency's smallest unit: 1250 EUR means 12.50 EUR.",
        "times": "Times are in UTC.",
        "formula": "A spreadsheet cell that would begin with = + - @, a tab or a carriage "
        "return is written with an apostrophe (') in front, so that it is shown as text and "
        "never run as a formula.",
        "rights": "You may ask {shop} at any time to correct or erase this data, or to stop "
        "using it for marketing.",
    },
    "ms": {
        "title": "Data peribadi anda yang disimpan oleh {shop}",
        "intro": "Arkib ini mengandungi semua yang disimpan oleh {shop} tentang anda dalam "
        "sistem pelanggannya (relmark), setakat {when} UTC. Ia disediakan kerana anda meminta "
        "untuk melihat data anda (hak akses).",
        "twice": "Setiap bahagian diberikan dua kali: kesemuanya dalam data.json, dan satu fail "
        "CSV bagi setiap bahagian yang boleh dibuka dalam hamparan.",
        "profiles_note": "Anda dikenali dengan nombor pelanggan ini, yang kini digabungkan "
        "menjadi satu: {ids}. Arkib ini merangkumi kesemuanya.",
        "files": "Fail",
        "rows": "baris",
        "money": "Amaun dalam unit terkecil mata wang: 1250 EUR bermaksud 12.50 EUR.",
        "times": "Masa dalam UTC.",
        "formula": "Sel hamparan yang akan bermula dengan = + - @, tab atau carriage return "
        "ditulis dengan tanda koma atas (') di hadapan, supaya ia dipaparkan sebagai teks dan "
        "tidak sekali-kali dijalankan sebagai formula.",
        "rights": "Anda boleh meminta {shop} pada bila-bila masa untuk membetulkan atau "
        "memadam data ini, atau berhenti menggunakannya untuk pemasaran.",
    },
    "kk": {
        "title": "{shop} сақтайтын дербес деректеріңіз",
        "intro": "Бұл мұрағатта {shop} өзінің клиенттер жүйесінде (relmark) сіз туралы "
        "сақтайтын барлық мәлімет бар, {when} UTC жағдайы бойынша. Ол сіз деректеріңізді "
        "көруді сұрағандықтан дайындалды (қолжетімділік құқығы).",
        "twice": "Әр бөлім екі рет беріледі: барлығы бірге data.json файлында және әр бөлімге "
        "электрондық кестеде ашылатын бір CSV файлы.",
        "profiles_note": "Сіз мына клиент нөмірлерімен белгілі болдыңыз, қазір олар біреуге "
        "біріктірілген: {ids}. Бұл мұрағат олардың барлығын қамтиды.",
        "files": "Файлдар",
        "rows": "жолдар",
        "money": "Сомалар валютаның ең кіші бірлігімен берілген: 1250 EUR 12,50 EUR дегенді "
        "білдіреді.",
        "times": "Уақыт UTC бойынша көрсетілген.",
        "formula": "= + - @ таңбасынан, табуляциядан немесе каретканы қайтарудан басталатын "
        "кесте ұяшығының алдына апостроф (') қойылады: ол мәтін ретінде көрсетіледі және "
        "ешқашан формула ретінде орындалмайды.",
        "rights": "Сіз кез келген уақытта {shop} дүкенінен бұл деректерді түзетуді немесе "
        "жоюды, не оларды маркетингке пайдалануды тоқтатуды сұрай аласыз.",
    },
    "tl": {
        "title": "Ang iyong personal na datos na hawak ng {shop}",
        "intro": "Nasa archive na ito ang lahat ng itinatago ng {shop} tungkol sa iyo sa "
        "sistema nito ng mga customer (relmark), hanggang {when} UTC. Inihanda ito dahil "
        "hiniling mong makita ang iyong datos (karapatang makakuha ng access).",
        "twice": "Dalawang beses ibinibigay ang bawat bahagi: lahat nang magkakasama sa "
        "data.json, at isang CSV file bawat bahagi na nabubuksan sa spreadsheet.",
        "profiles_note": "Nakilala ka sa mga customer number na ito, na pinagsama na ngayon "
        "bilang isa: {ids}. Saklaw ng archive na ito ang lahat ng iyon.",
        "files": "Mga file",
        "rows": "hanay",
        "money": "Nasa pinakamaliit na yunit ng pera ang mga halaga: ang 1250 EUR ay "
        "nangangahulugang 12.50 EUR.",
        "times": "Nasa UTC ang mga oras.",
        "formula": "Ang cell ng spreadsheet na magsisimula sana sa = + - @, tab o carriage "
        "return ay isinusulat nang may kudlit (') sa unahan, para maipakita ito bilang teksto "
        "at hindi kailanman patakbuhin bilang formula.",
        "rights": "Maaari mong hilingin sa {shop} anumang oras na itama o burahin ang datos na "
        "ito, o itigil ang paggamit nito para sa marketing.",
    },
    "uk": {
        "title": "Ваші персональні дані, які зберігає {shop}",
        "intro": "Цей архів містить усе, що {shop} зберігає про вас у своїй системі клієнтів "
        "(relmark), станом на {when} UTC. Його підготовлено, бо ви попросили переглянути свої "
        "дані (право на доступ).",
        "twice": "Кожну частину подано двічі: усі разом у data.json і по одному файлу CSV на "
        "частину, який відкривається в електронній таблиці.",
        "profiles_note": "Вас знали під такими номерами клієнта, тепер об’єднаними в один: "
        "{ids}. Цей архів охоплює їх усі.",
        "files": "Файли",
        "rows": "рядки",
        "money": "Суми наведено в найменших одиницях валюти: 1250 EUR означає 12,50 EUR.",
        "times": "Час наведено в UTC.",
        "formula": "Клітинку таблиці, яка починалася б з = + - @, табуляції чи повернення "
        "каретки, записано з апострофом (') попереду, щоб вона показувалася як текст і ніколи "
        "не виконувалася як формула.",
        "rights": "Ви будь-коли можете попросити {shop} виправити чи видалити ці дані або "
        "припинити використовувати їх для маркетингу.",
    },
    "sl": {
        "title": "Vaši osebni podatki, ki jih hrani {shop}",
        "intro": "V tem arhivu je vse, kar {shop} o vas hrani v svojem sistemu strank "
        "(relmark), na dan {when} UTC. Pripravljen je bil, ker ste zahtevali vpogled v svoje "
        "podatke (pravica dostopa).",
        "twice": "Vsak del je podan dvakrat: vsi skupaj v data.json in po ena datoteka CSV za "
        "vsak del, ki se odpre v preglednici.",
        "profiles_note": "Poznali smo vas pod temi številkami stranke, ki so zdaj združene v "
        "eno: {ids}. Ta arhiv zajema vse.",
        "files": "Datoteke",
        "rows": "vrstice",
        "money": "Zneski so v najmanjši enoti valute: 1250 EUR pomeni 12,50 EUR.",
        "times": "Časi so v UTC.",
        "formula": "Celica preglednice, ki bi se začela z = + - @, tabulatorjem ali vračilom "
        "na začetek vrstice, je zapisana z opuščajem (') spredaj, da se prikaže kot besedilo "
        "in se nikoli ne izvede kot formula.",
        "rights": "Od {shop} lahko kadar koli zahtevate, da te podatke popravi ali izbriše ali "
        "jih preneha uporabljati za trženje.",
    },
}

SECTION_TEXTS: dict[str, dict[str, str]] = {
    "profiles": {
        "en": "your profile: name, contact details, language, address",
        "ms": "profil anda: nama, butiran hubungan, bahasa, alamat",
        "kk": "профиліңіз: аты-жөні, байланыс деректері, тіл, мекенжай",
        "tl": "ang iyong profile: pangalan, detalye sa pakikipag-ugnayan, wika, address",
        "uk": "ваш профіль: ім’я, контактні дані, мова, адреса",
        "sl": "vaš profil: ime, kontaktni podatki, jezik, naslov",
    },
    "source_records": {
        "en": "what each source (shop, app, import) said about you, and the match keys "
        "derived from it",
        "ms": "apa yang dinyatakan oleh setiap sumber (kedai, aplikasi, import) tentang anda, "
        "dan kunci padanan yang diperoleh daripadanya",
        "kk": "әр дереккөздің (дүкен, қолданба, импорт) сіз туралы мәліметі және одан алынған "
        "сәйкестендіру кілттері",
        "tl": "ang sinabi ng bawat pinagmulan (tindahan, app, import) tungkol sa iyo, at ang "
        "mga susi sa pagtutugma na hinango rito",
        "uk": "що кожне джерело (магазин, застосунок, імпорт) повідомило про вас, і ключі "
        "зіставлення, отримані з цього",
        "sl": "kaj je o vas povedal vsak vir (trgovina, aplikacija, uvoz) in ključi za "
        "ujemanje, izpeljani iz tega",
    },
    "merges": {
        "en": "when profiles of yours were joined into one, and the evidence",
        "ms": "bila profil anda digabungkan menjadi satu, dan buktinya",
        "kk": "профильдеріңіз қашан біреуге біріктірілгені және оның дәлелі",
        "tl": "kung kailan pinagsama ang iyong mga profile bilang isa, at ang katibayan",
        "uk": "коли ваші профілі було об’єднано в один, і докази",
        "sl": "kdaj so bili vaši profili združeni v enega in dokazi za to",
    },
    "review_pairs": {
        "en": "profiles a person was asked to check as possibly being you",
        "ms": "profil yang diminta untuk disemak oleh seseorang kerana mungkin anda",
        "kk": "сіз болуы мүмкін деп адамға тексеруге берілген профильдер",
        "tl": "mga profile na ipinasuri sa isang tao dahil maaaring ikaw ito",
        "uk": "профілі, які людину попросили перевірити, бо це можете бути ви",
        "sl": "profili, za katere je moral človek preveriti, ali ste to morda vi",
    },
    "rectifications": {
        "en": "corrections made to your data at your request",
        "ms": "pembetulan yang dibuat pada data anda atas permintaan anda",
        "kk": "сіздің сұрауыңыз бойынша деректеріңізге енгізілген түзетулер",
        "tl": "mga pagwawastong ginawa sa iyong datos ayon sa iyong kahilingan",
        "uk": "виправлення ваших даних на ваше прохання",
        "sl": "popravki vaših podatkov na vašo zahtevo",
    },
    "orders": {
        "en": "your orders",
        "ms": "pesanan anda",
        "kk": "тапсырыстарыңыз",
        "tl": "ang iyong mga order",
        "uk": "ваші замовлення",
        "sl": "vaša naročila",
    },
    "order_lines": {
        "en": "the products in each order",
        "ms": "produk dalam setiap pesanan",
        "kk": "әр тапсырыстағы тауарлар",
        "tl": "ang mga produkto sa bawat order",
        "uk": "товари в кожному замовленні",
        "sl": "izdelki v vsakem naročilu",
    },
    "scores": {
        "en": "how the shop values the relationship: segment, predicted value, and why",
        "ms": "cara kedai menilai hubungan: segmen, nilai ramalan, dan sebabnya",
        "kk": "дүкен қарым-қатынасты қалай бағалайды: сегмент, болжамды құн және себебі",
        "tl": "kung paano pinahahalagahan ng tindahan ang ugnayan: segment, inaasahang "
        "halaga, at kung bakit",
        "uk": "як магазин оцінює стосунки: сегмент, прогнозована цінність і чому",
        "sl": "kako trgovina vrednoti odnos: segment, napovedana vrednost in zakaj",
    },
    "consents": {
        "en": "every consent you gave or withdrew, with its proof",
        "ms": "setiap persetujuan yang anda berikan atau tarik balik, dengan buktinya",
        "kk": "сіз берген немесе қайтарып алған әр келісім және оның дәлелі",
        "tl": "bawat pahintulot na ibinigay o binawi mo, kasama ang patunay nito",
        "uk": "кожна згода, яку ви надали чи відкликали, з її доказом",
        "sl": "vsaka privolitev, ki ste jo dali ali preklicali, z dokazilom",
    },
    "messages": {
        "en": "messages planned, sent or held back, with the reason",
        "ms": "mesej yang dirancang, dihantar atau ditahan, dengan sebabnya",
        "kk": "жоспарланған, жіберілген немесе тоқтатылған хабарлар және себебі",
        "tl": "mga mensaheng binalak, ipinadala o pinigil, kasama ang dahilan",
        "uk": "повідомлення заплановані, надіслані чи затримані, з причиною",
        "sl": "sporočila, načrtovana, poslana ali zadržana, z razlogom",
    },
    "link_events": {
        "en": "opens and clicks of our messages' links, and unsubscribes",
        "ms": "bukaan dan klik pautan dalam mesej kami, dan pemberhentian langganan",
        "kk": "хабарларымыздың ашылуы, сілтемелерді басу және жазылымнан бас тарту",
        "tl": "mga pagbukas at pag-click sa mga link ng aming mga mensahe, at mga pag-unsubscribe",
        "uk": "відкриття й переходи за посиланнями наших повідомлень і відписки",
        "sl": "odpiranja in kliki povezav v naših sporočilih ter odjave",
    },
    "ratings": {
        "en": "your ratings",
        "ms": "penilaian anda",
        "kk": "бағаларыңыз",
        "tl": "ang iyong mga rating",
        "uk": "ваші оцінки",
        "sl": "vaše ocene",
    },
    "mentions": {
        "en": "public posts of yours that name the shop",
        "ms": "hantaran awam anda yang menyebut kedai",
        "kk": "дүкенді атаған жария жазбаларыңыз",
        "tl": "ang iyong mga pampublikong post na bumabanggit sa tindahan",
        "uk": "ваші публічні дописи, у яких згадано магазин",
        "sl": "vaše javne objave, ki omenjajo trgovino",
    },
    "support_contacts": {
        "en": "your contacts with customer service",
        "ms": "hubungan anda dengan khidmat pelanggan",
        "kk": "клиенттерге қызмет көрсету бөлімімен байланыстарыңыз",
        "tl": "ang iyong mga pakikipag-ugnayan sa customer service",
        "uk": "ваші звернення до служби підтримки",
        "sl": "vaši stiki s službo za stranke",
    },
    "customer_events": {
        "en": "the log of every change to your profile",
        "ms": "log setiap perubahan pada profil anda",
        "kk": "профиліңіздегі әр өзгерістің журналы",
        "tl": "ang tala ng bawat pagbabago sa iyong profile",
        "uk": "журнал усіх змін вашого профілю",
        "sl": "dnevnik vseh sprememb vašega profila",
    },
    "tracking_messages": {
        "en": "events received from the shop's website or app",
        "ms": "peristiwa yang diterima daripada laman web atau aplikasi kedai",
        "kk": "дүкен сайтынан немесе қолданбасынан алынған оқиғалар",
        "tl": "mga pangyayaring natanggap mula sa website o app ng tindahan",
        "uk": "події, отримані з вебсайту чи застосунку магазину",
        "sl": "dogodki, prejeti s spletnega mesta ali iz aplikacije trgovine",
    },
    "accesses": {
        "en": "when your data was viewed, exported or changed, and by which kind of actor",
        "ms": "bila data anda dilihat, dieksport atau diubah, dan oleh jenis pelaku apa",
        "kk": "деректеріңіз қашан қаралғаны, экспортталғаны немесе өзгертілгені және оны "
        "кімнің түрі жасағаны",
        "tl": "kung kailan tiningnan, in-export o binago ang iyong datos, at ng anong uri ng "
        "gumagawa",
        "uk": "коли ваші дані переглядали, експортували чи змінювали і який вид учасника",
        "sl": "kdaj so bili vaši podatki pregledani, izvoženi ali spremenjeni in katera vrsta "
        "izvajalca je to storila",
    },
}

ALIASES = {"fil": "tl", "tgl": "tl", "msa": "ms", "may": "ms", "kaz": "kk", "ukr": "uk"}


def readme_language(tag: str | None) -> str:
    """`ms-MY` → ms; anything unknown → en."""
    base = (tag or "").strip().replace("_", "-").split("-")[0].lower()
    base = ALIASES.get(base, base)
    return base if base in TEXTS else "en"


def readme(
    language: str,
    *,
    shop: str,
    when: str,
    customer_ids: list[int],
    counts: dict[str, int],
    files: dict[str, str],
) -> str:
    """The README text: what the archive is, each file and its row count, how to read it."""
    words = TEXTS[language]
    values: dict[str, Any] = {"shop": shop, "when": when, "ids": ", ".join(map(str, customer_ids))}
    lines = [words["title"].format(**values), "=" * 60, "", words["intro"].format(**values), ""]
    if len(customer_ids) > 1:
        lines += [words["profiles_note"].format(**values), ""]
    lines += [words["twice"], "", words["files"] + ":"]
    for section, name in files.items():
        description = SECTION_TEXTS[section][language]
        lines.append(f"- {name}: {description} ({words['rows']}: {counts[section]})")
    lines += ["", words["money"], words["times"], words["formula"], ""]
    lines.append(words["rights"].format(**values))
    return "\n".join(lines) + "\n"
