"""The customer pages in Turkish: chosen by the footer's switcher, by the browser's
Accept-Language, or by a customer's saved language; and a refusal said in Turkish with its
number in place. The catalog's completeness is test_translations.py's; this proves that the
compiled catalog is the one the pages load."""

# Turkish words use the dotless i (U+0131), which ruff reports as a look-alike of "i".
# ruff: noqa: RUF001

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from smmpanel.accounts.models import Customer
from smmpanel.core.errors import ErrorCode, PanelError
from smmpanel.web.errors import WORDS, error_message
from tests.billing.payments import make_method
from tests.factories import make_customer, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def turkish(client: Client) -> Client:
    """A visitor who picked Türkçe in the footer (the cookie it sets rules the next pages)."""
    response = client.post("/language", {"language": "tr", "next": "/"})
    assert response.status_code == 302
    return client


@pytest.fixture
def turkish_customer(client: Client) -> Customer:
    customer, _ = make_customer(username="ayse")
    customer.language = "tr"
    customer.save(update_fields=["language"])
    client.force_login(customer.user)
    return customer


def page(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    html = response.content.decode()
    assert '<html lang="tr">' in html, url
    return html


def test_the_front_page_in_turkish(turkish: Client) -> None:
    html = page(turkish, "/")
    assert "Takipçi, beğeni, izlenme ve yorum: eksiksiz teslimat" in html
    assert "Telafi ve iptal" in html and "Drip-feed ve abonelikler" in html
    assert "Bayiler için API v2" in html
    assert ">Giriş yap</a>" in html and ">Üye ol</a>" in html
    assert "Followers, likes" not in html and "Log in" not in html


def test_the_browser_language_alone_turns_the_pages_turkish(client: Client) -> None:
    html = page(client, "/", accept_language="tr-TR,tr;q=0.9,en;q=0.5")
    assert "Hesap oluştur" in html and "Create an account" not in html


def test_log_in_and_sign_up_in_turkish(turkish: Client) -> None:
    login = page(turkish, "/accounts/login/")
    assert "Giriş Yap" in login and "Şifrenizi mi unuttunuz?" in login
    assert "Forgot your password?" not in login
    signup = page(turkish, "/accounts/signup/")
    assert "Üye Ol" in signup and "Kullanıcı adı" in signup and "Şifre (tekrar)" in signup
    assert "Already have an account?" not in signup


def test_the_services_page_in_turkish(turkish: Client) -> None:
    make_service(name="Instagram Takipçi", min=10, max=10000, refill=True)
    html = page(turkish, "/services")
    assert "Liste fiyatları; size özel fiyatları görmek için giriş yapın." in html
    assert "1000 adet fiyatı" in html and "Tüm kategoriler" in html
    # The plural and its number: "Refill · 30 days" and its title.
    assert "Telafi · 30 gün" in html and "Tamamlandıktan sonra 30 gün telafi" in html
    assert ">İptal</span>" in html and ">Drip-feed</span>" in html
    assert "Min 10 · Maks 10.000" in html
    assert "Rate per 1000" not in html and "days" not in html


def test_the_account_page_follows_the_saved_language(
    client: Client, turkish_customer: Customer
) -> None:
    # No cookie and an English browser: the customer's saved language wins.
    html = page(client, "/account", accept_language="en")
    assert "Giriş ve güvenlik" in html and "Şifreyi değiştir" in html
    assert "İki faktörlü doğrulama" in html and "Etkinleştir" in html
    assert "Saat dilimi" in html and "Panelin saat dilimi (UTC)" in html
    assert "Tarayıcının dili" in html and ">Kaydet</button>" in html
    assert "Destek talepleri" in html and "Çıkış yap" in html  # the menu
    assert "Preferences" not in html and "Change password" not in html


def test_new_order_and_add_funds_in_turkish(client: Client, turkish_customer: Customer) -> None:
    service = make_service(name="Instagram Takipçi", min=10, max=10000)
    order = page(client, f"/order/new?service={service.pk}")
    assert "Yeni sipariş" in order and "Toplu sipariş" in order and "Bağlantı" in order
    assert "Drip-feed (isteğe bağlı)" in order and ">Sipariş ver</button>" in order
    make_method("demo", min_amount=Decimal("1"), max_amount=Decimal("1000"))
    funds = page(client, "/funds")
    assert "Bakiye yükle" in funds and "Ödeme yöntemi" in funds and "Ödemeden önce" in funds
    assert "Add funds" not in funds and "Payment method" not in funds


def test_saving_preferences_is_confirmed_in_turkish(
    client: Client, turkish_customer: Customer
) -> None:
    response = client.post(
        "/account", {"time_zone": "Europe/Istanbul", "language": "tr"}, follow=True
    )
    assert "Tercihleriniz kaydedildi." in response.content.decode()


def test_an_order_refusal_in_turkish_with_its_number() -> None:
    with translation.override("tr"):
        assert error_message(PanelError(ErrorCode.QUANTITY_LESS, min=50)) == (
            "En az 50 adet sipariş verilebilir."
        )
        assert error_message(PanelError(ErrorCode.QUANTITY_MORE, max=10000)) == (
            "En fazla 10000 adet sipariş verilebilir."
        )
        assert error_message(PanelError(ErrorCode.NOT_ENOUGH_FUNDS)) == "Bakiyeniz yetersiz."
    # The same refusal in English, and API v2's own words untouched by the language.
    with translation.override("en"):
        assert error_message(PanelError(ErrorCode.QUANTITY_LESS, min=50)) == (
            "The minimum quantity is 50."
        )
    with translation.override("tr"):
        assert PanelError(ErrorCode.QUANTITY_LESS, min=50).message == (
            "Quantity less than minimal 50"
        )


def test_every_refusal_formats_in_turkish_with_its_placeholders() -> None:
    """A Turkish text that lost or renamed a `{placeholder}` would raise in str.format or
    fall back to English (error_message's guard): each is filled here, and none is English."""
    values = {"limit": 7, "minimum": 8, "size": 9, "problem": "x", "line": 3, "min": 5,
              "max": 6, "allowed": "1, 2", "places": 2}  # fmt: skip
    for code, words in WORDS.items():
        with translation.override("en"):
            english = str(words)
        with translation.override("tr"):
            turkish = str(words)
        assert turkish != english, code
        for name, value in values.items():
            if "{" + name + "}" in english:
                assert "{" + name + "}" in turkish, (code, name)
                assert str(value) in turkish.format(field="f", **values), (code, name)
