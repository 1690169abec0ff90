# Dates and times as the admin shows them by default: the time zone is always named.
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "j M Y"
