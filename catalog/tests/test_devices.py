"""What travellers type in the device check, and the honest answer (issue 10, item 3).

The device list is the sandbox's (upstream's families, e.g. "iPhone 12 / 12 mini"),
so these are the answers the demo gives.
"""

from __future__ import annotations

import pytest

from catalog import devices
from sandboxes.roamify.data import DEVICES

# query -> (answer, the model named in it: for "ask", one of the choices)
TABLE = {
    # The false yeses of the issue.
    "Moto G": ("ask", "Motorola Moto G54"),
    "iPhone SE": ("ask", "Apple iPhone SE (2022)"),
    "Pixel 3a": ("yes", "Google Pixel 3a"),
    "pixel7": ("yes", "Google Pixel 7"),
    "iphone12 mini": ("yes", "Apple iPhone 12 mini"),
    "Galaxy A14 5G": ("no", "Samsung Galaxy A14"),
    # Spellings of the same model.
    "iPhone 12 mini": ("yes", "Apple iPhone 12 mini"),
    "IPHONE 12 MINI": ("yes", "Apple iPhone 12 mini"),
    "i phone 13": ("yes", "Apple iPhone 13"),
    "Apple iPhone 15 Pro Max": ("yes", "Apple iPhone 15 Pro Max"),
    "iphone 16e": ("yes", "Apple iPhone 16e"),
    "iPhone XS Max": ("yes", "Apple iPhone XS Max"),
    "iphone xr": ("yes", "Apple iPhone XR"),
    "iPhone SE 2022": ("yes", "Apple iPhone SE (2022)"),
    "iPhone SE (2020)": ("yes", "Apple iPhone SE (2020)"),
    "Google Pixel 7 Pro": ("yes", "Google Pixel 7 Pro"),
    "pixel 8a": ("yes", "Google Pixel 8a"),
    "Pixel 3": ("yes", "Google Pixel 3"),
    "Pixel 9 Pro XL": ("yes", "Google Pixel 9 Pro XL"),
    "Samsung S23": ("yes", "Samsung Galaxy S23"),
    "galaxy s23+": ("yes", "Samsung Galaxy S23+"),
    "Galaxy S24 Ultra 5G": ("yes", "Samsung Galaxy S24 Ultra"),
    "Galaxy Z Flip 5": ("yes", "Samsung Galaxy Z Flip 5"),
    "galaxy note 20 ultra": ("yes", "Samsung Galaxy Note 20 Ultra"),
    "Galaxy A54": ("yes", "Samsung Galaxy A54"),
    "Samsung Galaxy A55 5G 128GB": ("yes", "Samsung Galaxy A55"),
    "Motorola Edge 40": ("yes", "Motorola Edge 40"),
    "moto razr 40 ultra": ("yes", "Motorola Razr 40 Ultra"),
    "Xiaomi 13 Pro": ("yes", "Xiaomi 13 Pro"),
    "OnePlus 12": ("yes", "OnePlus 12"),
    "one plus 11": ("yes", "OnePlus 11"),
    "Huawei P40 Pro": ("yes", "Huawei P40 Pro"),
    "Sony Xperia 5 IV": ("yes", "Sony Xperia 5 IV"),
    "Fairphone 5": ("yes", "Fairphone 5"),
    "Nokia G60": ("yes", "Nokia G60"),
    "OPPO Find X5 Pro": ("yes", "OPPO Find X5 Pro"),
    # Models with no eSIM.
    "iPhone X": ("no", "Apple iPhone X"),
    "iphone 8": ("no", "Apple iPhone 8"),
    "Galaxy A14": ("no", "Samsung Galaxy A14"),
    "samsung a15": ("no", "Samsung Galaxy A15"),
    "Galaxy S10": ("no", "Samsung Galaxy S10"),
    "Pixel 2": ("no", "Google Pixel 2"),
    "Huawei P30": ("no", "Huawei P30"),
    "Redmi Note 12": ("no", "Xiaomi Redmi Note 12"),
    "moto g84": ("no", "Motorola Moto G84"),
    # Only the start of a name: a question, never a yes.
    "iPhone 15 P": ("ask", "Apple iPhone 15 Pro"),
    "Pixel 7 P": ("ask", "Google Pixel 7 Pro"),
    "Galaxy S2": ("ask", "Samsung Galaxy S23"),
    "12": ("ask", "OnePlus 12"),
    # Families that mostly have no eSIM, and phones we do not know.
    "Galaxy A35": ("family", ""),
    "Moto E22": ("unknown", ""),
    "Redmi 12": ("family", ""),
    "Nokia 3310": ("unknown", ""),
    "Galaxy": ("unknown", ""),
    "toaster": ("unknown", ""),
}


@pytest.fixture(scope="module")
def models() -> list[devices.Model]:
    from catalog.models import CompatibleDevice

    rows = [CompatibleDevice(model=m, device_type=t, os=o, brand=b, name=n) for m, t, o, b, n in DEVICES]
    return devices.known_models(rows)


def test_the_table_is_big_enough(models):
    assert len(TABLE) >= 40
    assert len([m for m in models if m.esim]) >= 100
    assert len(devices.NO_ESIM) >= 30


@pytest.mark.parametrize(("query", "expected"), TABLE.items())
def test_device_answers(models, query, expected):
    kind, name = expected
    answer = devices.check(query, models)
    assert answer.kind == kind, (answer.kind, answer.model, [m.full_name for m in answer.choices])
    if kind in ("yes", "no"):
        assert answer.model.full_name == name
    if kind == "ask":
        assert name in [m.full_name for m in answer.choices]
        assert answer.model is None  # a question names no model as the answer
    if kind == "family":
        assert answer.note


def test_a_partial_match_never_says_yes_for_another_model(models):
    for query in ["moto g", "iphone se", "pixel", "galaxy a", "xperia", "iphone 1", "s2", "edge"]:
        answer = devices.check(query, models)
        assert answer.kind != "yes", (query, answer.model)


def test_family_splitting():
    assert devices.split_family("Apple", "iPhone 12 / 12 mini / 12 Pro") == [
        "iPhone 12",
        "iPhone 12 mini",
        "iPhone 12 Pro",
    ]
    assert devices.split_family("Samsung", "Samsung Galaxy Z Fold 3 / 4") == [
        "Galaxy Z Fold 3",
        "Galaxy Z Fold 4",
    ]
    assert devices.split_family("Apple", "iPhone SE (2020) / SE (2022)") == [
        "iPhone SE (2020)",
        "iPhone SE (2022)",
    ]
    assert devices.split_family("Sony", "Sony Xperia 10 III / 1 IV") == ["Xperia 10 III", "Xperia 1 IV"]
