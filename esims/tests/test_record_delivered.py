"""Recording what upstream delivered: new eSIMs get rows, an eSIM upstream sends again updates its
row (the same id) with what upstream says now."""

from __future__ import annotations

import pytest

import roamify
from esims import services
from esims.models import Esim, RefundState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]


def delivered(esim_id: str, status: str = "READY", order: str = "o-1") -> services.Delivered:
    profile = roamify.EsimProfile(lpa_code=f"LPA:1$smdp.example${esim_id}")
    esim = roamify.Esim(id=esim_id, iccid=f"89{esim_id}", status=status, profile=profile)
    return services.Delivered(esim=esim, upstream_order_id=order, title="Japan eSIM", package_id="jp-1")


def test_new_esims_get_rows_and_one_sent_again_keeps_its_row():
    first = services.record_delivered(
        [delivered("e1"), delivered("e2")], customer=None, email="a@example.com"
    )
    assert [e.pk for e in first] == list(Esim.objects.order_by("pk").values_list("pk", flat=True))
    Esim.objects.filter(pk=first[1].pk).update(refund_state=RefundState.REFUNDED)

    again = services.record_delivered(
        [delivered("e2", "INSTALLED", "o-2"), delivered("e3")], customer=None, email="b@example.com"
    )

    assert again[0].pk == first[1].pk and again[1].pk not in {e.pk for e in first}
    e2 = Esim.objects.get(pk=first[1].pk)
    assert (e2.status, e2.upstream_order_id, e2.email) == ("INSTALLED", "o-2", "b@example.com")
    assert e2.refund_state == RefundState.REFUNDED  # the shop's own fields are left alone
    assert e2.lpa_code == "LPA:1$smdp.example$e2" and Esim.objects.count() == 3
