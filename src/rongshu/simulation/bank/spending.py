"""Merchant spending: ISO 18245 merchant category codes, the need category (衣食住行玩医金融)
each maps to, a typical ticket and how the share of spending shifts with age."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEEDS = ("clothing", "food", "housing", "transport", "leisure", "medical", "finance")
NEED_ZH = {
    "clothing": "衣",
    "food": "食",
    "housing": "住",
    "transport": "行",
    "leisure": "玩",
    "medical": "医",
    "finance": "金融",
}


@dataclass(frozen=True)
class Mcc:
    code: str
    label: str
    need: str
    median_cny: float  # typical ticket
    weight_young: float  # relative frequency, people under 35
    weight_middle: float  # 35-59
    weight_old: float  # 60 and over
    online: bool  # e-commerce (Double 11 peaks)


MCC_TABLE: tuple[Mcc, ...] = (
    Mcc("5651", "family clothing", "clothing", 260, 4, 3, 1.5, False),
    Mcc("5691", "men's and women's clothing", "clothing", 320, 4, 3, 1, False),
    Mcc("5661", "shoe stores", "clothing", 380, 2, 1.5, 0.6, False),
    Mcc("5311", "department stores", "clothing", 450, 2, 2, 1, False),
    Mcc("5411", "grocery stores, supermarkets", "food", 95, 10, 14, 16, False),
    Mcc("5812", "restaurants", "food", 120, 12, 9, 4, False),
    Mcc("5814", "fast food", "food", 35, 16, 8, 3, False),
    Mcc("5499", "convenience food stores", "food", 28, 14, 8, 6, False),
    Mcc("5462", "bakeries", "food", 40, 4, 3, 2, False),
    Mcc("5262", "online marketplaces", "clothing", 180, 9, 6, 2, True),
    Mcc("5712", "furniture", "housing", 1800, 0.6, 1.0, 0.4, False),
    Mcc("5722", "household appliances", "housing", 2200, 0.7, 0.9, 0.5, True),
    Mcc("5200", "home supply, hardware", "housing", 260, 0.8, 1.5, 0.8, False),
    Mcc("7349", "cleaning and property services", "housing", 300, 0.5, 1.2, 1.0, False),
    Mcc("4111", "commuter transport, metro", "transport", 6, 8, 5, 2, False),
    Mcc("4121", "taxis and ride hailing", "transport", 32, 8, 5, 2, False),
    Mcc("4112", "railways", "transport", 320, 1.5, 1.2, 0.8, False),
    Mcc("4511", "airlines", "transport", 1300, 0.8, 0.8, 0.3, False),
    Mcc("7832", "cinemas", "leisure", 90, 3, 1.5, 0.3, False),
    Mcc("7011", "hotels", "leisure", 520, 1.2, 1.2, 0.5, False),
    Mcc("7996", "amusement parks", "leisure", 300, 0.8, 0.8, 0.1, False),
    Mcc("5815", "digital goods, games", "leisure", 30, 5, 1.5, 0.2, True),
    Mcc("7997", "clubs, fitness", "leisure", 260, 1.2, 0.8, 0.3, False),
    Mcc("4722", "travel agencies", "leisure", 2600, 0.3, 0.5, 0.6, False),
    Mcc("5912", "pharmacies", "medical", 85, 1.5, 3, 8, False),
    Mcc("8062", "hospitals", "medical", 420, 0.6, 1.5, 4, False),
    Mcc("8011", "doctors, clinics", "medical", 160, 0.6, 1.2, 3, False),
    Mcc("8021", "dentists", "medical", 600, 0.3, 0.5, 0.5, False),
    Mcc("6300", "insurance premiums", "finance", 1500, 0.3, 0.8, 0.5, False),
    Mcc("6211", "securities brokers", "finance", 5000, 0.2, 0.4, 0.2, False),
    Mcc("6012", "financial institutions", "finance", 800, 0.3, 0.4, 0.3, False),
)
# for car owners (added on top of the age mix)
FUEL = Mcc("5541", "service stations, fuel", "transport", 320, 0, 0, 0, False)
PARKING = Mcc("7523", "parking lots, garages", "transport", 15, 0, 0, 0, False)
# bills (kind ``bill``)
UTILITIES = Mcc("4900", "utilities: electricity, gas, water", "housing", 180, 0, 0, 0, False)
TELECOM = Mcc("4814", "telecommunication services", "housing", 90, 0, 0, 0, False)

ALL_MCC: tuple[Mcc, ...] = (*MCC_TABLE, FUEL, PARKING, UTILITIES, TELECOM)
MCC_INDEX = {m.code: i for i, m in enumerate(ALL_MCC)}
NEED_OF_MCC = {m.code: m.need for m in ALL_MCC}


def mix(age_group: int) -> np.ndarray:
    """Probability of each :data:`MCC_TABLE` entry for age group 0 (<35), 1 (35-59), 2 (60+)."""
    w = np.array([(m.weight_young, m.weight_middle, m.weight_old)[age_group] for m in MCC_TABLE])
    out: np.ndarray = w / w.sum()
    return out


MIX = np.stack([mix(g) for g in range(3)])
MEDIANS = np.array([m.median_cny for m in ALL_MCC])
NEED_INDEX = np.array([NEEDS.index(m.need) for m in ALL_MCC])
ONLINE = np.array([m.online for m in ALL_MCC])
