"""Response bodies copied from the Roamify partner API documentation, for unit tests."""

from __future__ import annotations

import copy
from typing import Any

CATALOG_GROUP: dict[str, Any] = {
    "id": "afghanistan-esims",
    "countryName": "Afghanistan",
    "countryCode": "AF",
    "countrySlug": "afghanistan",
    "region": "Asia",
    "geography": "local",
    "minPrice": 5,
    "maxPrice": 5,
    "image": "https://imagedelivery.net/acct/countries/flags/afghanistan/public",
    "signals": [{"code": "AF", "name": "Afghanistan", "networks": ["3G", "4G"], "carriers": ["MTN"]}],
    "packages": [
        {
            "packageId": "esim-afghanistan-7days-1gb-all",
            "package": "1 GB - 7 Days",
            "plan": "data-only",
            "activation": "first-use",
            "day": 7,
            "price": 5,
            "isUnlimited": False,
            "isAPNAutomatic": True,
            "apn": "globaldata",
            "dataAmount": 1024,
            "dataUnit": "MB",
            "callType": "all",
            "callAmount": -1,
            "callUnit": "",
            "smsType": "all",
            "smsAmount": -1,
            "smsUnit": "",
            "withSMS": False,
            "withCall": False,
            "withHotspot": True,
            "withDataRoaming": True,
            "withDestinationInstall": False,
            "withUsageCheck": True,
            "withThrottle": False,
            "throttle": None,
            "requirements": {"travelDate": False},
            "notes": [],
        }
    ],
}

UNLIMITED_PACKAGE: dict[str, Any] = {
    "packageId": "esim-canada-15days-un2gb-all",
    "package": "Unlimited Data - 15 Days (2 GB / 128 KBPS)",
    "plan": "data-only",
    "activation": "first-use",
    "day": 15,
    "price": 23.49,
    "isUnlimited": True,
    "isAPNAutomatic": True,
    "apn": "",
    "dataAmount": 9007199254740991,
    "dataUnit": "MB",
    "withThrottle": True,
    "throttle": {
        "throttleSpeed": 128,
        "throttleSpeedUnit": "kbps",
        "throttleThreshold": 2,
        "throttleThresholdUnit": "gb",
    },
    "withHotspot": True,
    "withUsageCheck": True,
    "requirements": {"travelDate": True},
    "notes": ["Check usage in the carrier app"],
}

TOPUP_PACKAGE: dict[str, Any] = {
    "packageId": "esim-cambodia-7days-1gb-all",
    "package": "1 GB - 7 Days",
    "plan": "data-only",
    "activation": "first-use",
    "day": 7,
    "price": 5,
    "withHotspot": True,
    "withDataRoaming": True,
    "withDestinationInstall": False,
    "withUsageCheck": True,
    "apn": {"apnAutomatic": True, "apnName": "globaldata", "apnUsername": "", "apnPassword": ""},
    "data": {"isUnlimited": False, "dataAmount": 1024, "dataUnit": "MB"},
    "call": {"withCall": False, "callType": "all", "callAmount": -1, "callUnit": ""},
    "sms": {"withSMS": False, "smsType": "all", "smsAmount": -1, "smsUnit": ""},
    "notes": [],
}

ORDER: dict[str, Any] = {
    "id": "67bbabb7-e893-410a-b0a8-4fa62d347b6c",
    "referenceId": "ref-123456",
    "orderType": "api",
    "status": "COMPLETED",
    "total": 5,
    "currency": "USD",
    "createdAt": 1731837535,
    "updatedAt": 1731837539,
    "items": [
        {
            "esimId": "b06036c5-eadc-4f88-aa31-8c207fec91ec",
            "packageId": "esim-cambodia-7days-1gb-all",
            "package": "1 GB - 7 Days",
            "type": "esim",
            "price": 5,
            "currency": "USD",
            "createdAt": 1731837535,
            "updatedAt": 1731837539,
        }
    ],
}

ESIM_READY: dict[str, Any] = {
    "id": "b06036c5-eadc-4f88-aa31-8c207fec91ec",
    "iccid": "894000000000029365",
    "status": "READY",
    "activation": "first-use",
    "withTopUp": True,
    "withHotspot": True,
    "withDataRoaming": True,
    "withDestinationInstall": False,
    "withUsageCheck": True,
    "esim": {
        "lpaCode": "LPA:1$lpa.roamify.com$TEST",
        "smdpAddress": "lpa.roamify.com",
        "activationCode": "TEST",
        "qrCodeUrl": "https://imagedelivery.net/acct/partners/x/iccid/public",
        "pin": "",
        "puk": "",
        "number": "",
        "iosQuickInstall": "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$lpa.roamify.com$TEST",
        "androidQuickInstall": "https://esimsetup.android.com/esim_qrcode_provisioning?carddata=LPA:1$lpa.roamify.com$TEST",
    },
    "apn": {"apnAutomatic": True, "apnName": "", "apnUsername": "", "apnPassword": ""},
    "data": {"isUnlimited": False},
    "call": {"withCall": False, "callType": "all"},
    "sms": {"withSMS": False, "smsType": "all"},
    "notes": [],
    "createdAt": 1731837539,
    "updatedAt": 1731837987,
    "expiredAt": 1763373985,
}

ESIM_NEW: dict[str, Any] = {
    **copy.deepcopy(ESIM_READY),
    "iccid": "",
    "status": "NEW",
    "esim": {
        "lpaCode": "",
        "smdpAddress": "",
        "activationCode": "",
        "qrCodeUrl": "",
        "pin": "",
        "puk": "",
        "number": "",
        "iosQuickInstall": "",
    },
    "expiredAt": 0,
}

USAGE_DETAILS: dict[str, Any] = {
    "id": "b06036c5-eadc-4f88-aa31-8c207fec91ec",
    "iccid": "894000000000029365",
    "status": "INSTALLED",
    "startedAt": 1732442794,
    "expiredAt": 1732442794,
    "allowedData": 1024,
    "remainingData": 924,
    "allowedSms": 0,
    "remainingSms": 0,
    "allowedVoice": 0,
    "remainingVoice": 0,
    "dataUsages": [
        {"date": "20250102", "usage": 10240, "location": "United Kingdom"},
        {"date": "2025-01-01", "usage": 20480, "location": "France"},
    ],
}


def envelope(data: Any) -> dict[str, Any]:
    return {"status": "success", "data": data}


def order(**overrides: Any) -> dict[str, Any]:
    out = copy.deepcopy(ORDER)
    out.update(overrides)
    return out
