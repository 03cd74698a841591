"""The demo shop: a specialty coffee and tea retailer selling online, in store and through
marketplaces, with distributors, agencies and suppliers as marketing partners."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    category: str
    price: str
    unit_cost: str
    howto: bool


def _items() -> tuple[Item, ...]:
    rows = [
        ("ESP-100", "Home espresso machine", "Coffee makers", "349.00", "198.00", True),
        ("ESP-200", "Dual-boiler espresso machine", "Coffee makers", "899.00", "540.00", True),
        ("DRP-010", "Pour-over dripper", "Coffee makers", "24.00", "7.50", True),
        ("PRS-020", "French press 1 l", "Coffee makers", "39.00", "14.00", True),
        ("AER-030", "Travel coffee press", "Coffee makers", "45.00", "19.00", True),
        ("MOK-040", "Stovetop moka pot", "Coffee makers", "35.00", "12.00", True),
        ("GRD-110", "Burr grinder", "Grinders", "129.00", "61.00", True),
        ("GRD-120", "Hand grinder", "Grinders", "79.00", "33.00", True),
        ("KET-200", "Gooseneck kettle", "Kettles", "69.00", "28.00", True),
        ("KET-210", "Temperature-control kettle", "Kettles", "119.00", "52.00", True),
        ("SCL-300", "Brew scale with timer", "Accessories", "49.00", "18.00", True),
        ("FIL-310", "Paper filters (100)", "Accessories", "6.50", "1.40", False),
        ("MLK-320", "Milk frothing jug", "Accessories", "22.00", "7.00", True),
        ("TMP-330", "Espresso tamper", "Accessories", "29.00", "9.00", True),
        ("CUP-340", "Ceramic cups, set of 2", "Accessories", "26.00", "8.50", False),
        ("CLN-350", "Descaler", "Accessories", "12.00", "3.20", True),
        ("BNS-400", "Single-origin beans, Ethiopia 250 g", "Coffee", "16.00", "6.80", False),
        ("BNS-410", "Single-origin beans, Colombia 250 g", "Coffee", "14.50", "6.00", False),
        ("BNS-420", "Espresso blend 1 kg", "Coffee", "38.00", "17.00", False),
        ("BNS-430", "Decaf beans 250 g", "Coffee", "15.00", "6.50", False),
        ("BNS-440", "Sabah robusta 250 g", "Coffee", "13.00", "5.20", False),
        ("TEA-500", "Sencha green tea 100 g", "Tea", "12.00", "4.10", False),
        ("TEA-510", "Oolong tea 100 g", "Tea", "17.00", "6.30", False),
        ("TEA-520", "Teh tarik mix", "Tea", "9.50", "3.10", False),
        ("TEA-530", "Glass teapot with infuser", "Tea", "34.00", "12.50", True),
        ("SUB-600", "Coffee subscription, monthly box", "Subscriptions", "29.00", "15.00", False),
    ]
    return tuple(Item(*row) for row in rows)


ITEMS = _items()

#: Everyday items are bought far more often than machines.
POPULARITY = {
    "Coffee": 6.0,
    "Tea": 3.0,
    "Accessories": 2.5,
    "Subscriptions": 1.0,
    "Grinders": 0.8,
    "Kettles": 0.8,
    "Coffee makers": 0.7,
}


def howto_url(sku: str) -> str:
    return f"https://learn.brew-and-co.example/videos/{sku.lower()}"


PARTNERS = (
    ("P-LZD", "Lazada Mall storefront", "channel"),
    ("P-SHP", "Shopee storefront", "channel"),
    ("P-AMZ", "Amazon UK storefront", "channel"),
    ("P-KZD", "Dala Coffee Distribution (KZ)", "distributor"),
    ("P-UAD", "Kavovyi Dim Distribution (UA)", "distributor"),
    ("P-AG1", "Bright Loop Influencer Agency", "agency"),
    ("P-AG2", "Sarawak Digital Affiliates", "agency"),
    ("P-SUP", "Highland Roasters Cooperative", "supplier"),
    ("P-INT", "CardPoint Loyalty Network", "intermediary"),
)

#: Marketplace partner per country (orders sold through a marketplace channel).
MARKETPLACES = {
    "MY": ("P-LZD", "P-SHP"),
    "PH": ("P-LZD", "P-SHP"),
    "GB": ("P-AMZ",),
    "SI": ("P-AMZ",),
    "KZ": (),
    "UA": (),
}
DISTRIBUTORS = {"KZ": "P-KZD", "UA": "P-UAD"}
AGENCIES = ("P-AG1", "P-AG2")
