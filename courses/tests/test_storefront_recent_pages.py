"""The storefront's in-process copy of recently shared pages."""

from courses.views.storefront import _RecentPages


def test_it_returns_a_kept_page() -> None:
    pages = _RecentPages(size=2, ttl=60)
    pages.put("a", "<p>a</p>")
    assert pages.get("a") == "<p>a</p>"
    assert pages.get("b") is None


def test_it_forgets_pages_past_their_time() -> None:
    pages = _RecentPages(size=2, ttl=-1)
    pages.put("a", "<p>a</p>")
    assert pages.get("a") is None


def test_it_keeps_only_the_most_recently_used_pages() -> None:
    pages = _RecentPages(size=2, ttl=60)
    pages.put("a", "A")
    pages.put("b", "B")
    pages.get("a")
    pages.put("c", "C")
    assert pages.get("a") == "A"
    assert pages.get("b") is None
    assert pages.get("c") == "C"
