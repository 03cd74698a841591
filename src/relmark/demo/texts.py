"""What customers write about the shop on social media, in each of the six languages.

`{product}` is replaced by a product the author bought. Kinds: praise, question, complaint.
"""

from __future__ import annotations

MENTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "praise": (
            "The {product} is brilliant! Morning coffee has never tasted better. Thank you!",
            "Order arrived super fast and the {product} is top quality. Recommended!",
            "Thanks Brew & Co, the {product} exceeded my expectations.",
        ),
        "question": (
            "How do I clean the {product} properly? Is there a guide?",
            "Hi, how long does delivery of the {product} to Leeds take?",
            "Which grind size works best with the {product}?",
        ),
        "complaint": (
            "The {product} arrived broken and nobody has replied in two weeks. Very disappointed.",
            "My order still hasn't arrived and support isn't answering!",
            "The {product} stopped working after a week. I want my money back.",
        ),
    },
    "ms": {
        "praise": (
            "{product} memang terbaik! Kopi pagi saya lebih sedap sekarang. Terima kasih!",
            "Pesanan sampai sangat cepat, {product} berkualiti tinggi. Sangat disyorkan!",
            "Terima kasih Brew & Co, {product} melebihi jangkaan saya.",
        ),
        "question": (
            "Macam mana nak cuci {product} dengan betul? Ada panduan tak?",
            "Hai, berapa hari penghantaran {product} ke Kuching?",
            "Kisaran kopi yang mana sesuai untuk {product}?",
        ),
        "complaint": (
            "{product} sampai dalam keadaan pecah, dah dua minggu tiada jawapan. Sangat kecewa.",
            "Pesanan saya masih belum sampai, khidmat pelanggan tak balas langsung!",
            "{product} rosak selepas seminggu. Tolong pulangkan wang saya.",
        ),
    },
    "kk": {
        "praise": (
            "{product} керемет! Таңғы кофе енді әлдеқайда дәмді. Рақмет!",
            "Тапсырыс өте тез жетті, {product} сапасы жоғары. Ұсынамын!",
            "Brew & Co командасына алғыс, {product} күткенімнен де жақсы шықты.",
        ),
        "question": (
            "{product} қалай дұрыс тазалау керек? Нұсқаулық бар ма?",
            "Сәлеметсіз бе, {product} Астанаға қанша күнде жетеді?",
            "{product} үшін кофені қандай ірілікте ұнтақтау керек?",
        ),
        "complaint": (
            "{product} сынып келді, екі апта бойы ешкім жауап бермейді. Қатты ренжідім.",
            "Тапсырысым әлі жетпеді, қолдау қызметі үндемейді!",
            "{product} бір аптадан кейін бұзылды. Ақшамды қайтарыңыздар.",
        ),
    },
    "tl": {
        "praise": (
            "Ang galing ng {product}! Mas masarap na ang kape ko tuwing umaga. Salamat!",
            "Ang bilis dumating ng order ko at ang ganda ng kalidad ng {product}. Sulit!",
            "Salamat Brew & Co, higit pa sa inaasahan ko ang {product}.",
        ),
        "question": (
            "Paano po linisin nang tama ang {product}? May gabay po ba?",
            "Hello po, ilang araw ang delivery ng {product} papuntang Cebu?",
            "Anong giling ng kape ang bagay sa {product}?",
        ),
        "complaint": (
            "Sira na nang dumating ang {product} at dalawang linggo nang walang sagot. "
            "Dismayado ako.",
            "Hindi pa rin dumarating ang order ko at walang sumasagot sa customer service!",
            "Nasira ang {product} pagkalipas ng isang linggo. Ibalik ninyo ang pera ko.",
        ),
    },
    "uk": {
        "praise": (
            "{product} просто чудовий! Ранкова кава тепер значно смачніша. Дякую!",
            "Замовлення прийшло дуже швидко, {product} якісний. Рекомендую!",
            "Дякую команді Brew & Co, {product} перевершив мої очікування.",
        ),
        "question": (
            "Як правильно чистити {product}? Є інструкція?",
            "Добрий день, скільки днів триває доставка {product} до Львова?",
            "Який помел кави підходить для {product}?",
        ),
        "complaint": (
            "{product} прийшов розбитим, уже два тижні ніхто не відповідає. Дуже прикро.",
            "Моє замовлення досі не доставлене, а підтримка мовчить!",
            "{product} зламався через тиждень. Поверніть мені гроші.",
        ),
    },
    "sl": {
        "praise": (
            "{product} je odličen! Jutranja kava je zdaj veliko boljša. Hvala!",
            "Naročilo je prispelo zelo hitro, {product} je res kakovosten. Priporočam!",
            "Hvala ekipi Brew & Co, {product} je presegel moja pričakovanja.",
        ),
        "question": (
            "Kako pravilno očistim {product}? Imate navodila?",
            "Pozdravljeni, koliko dni traja dostava za {product} v Maribor?",
            "Kakšna mletost kave je primerna za {product}?",
        ),
        "complaint": (
            "{product} je prispel razbit, že dva tedna pa ni nobenega odgovora. Zelo sem "
            "razočaran.",
            "Moje naročilo še vedno ni dostavljeno, podpora pa se ne odziva!",
            "{product} se je pokvaril po enem tednu. Vrnite mi denar.",
        ),
    },
}

MENTION_KINDS = ("praise", "question", "complaint")
PLATFORMS = ("instagram", "facebook", "x", "tiktok")
SUPPORT_REASONS = ("delivery", "product_question", "return", "billing", "account")
SUPPORT_CHANNELS = ("email", "chat", "phone")
