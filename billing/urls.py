"""Getting paid, buying, purchases and sales, a teacher's own plan, and Stripe's webhooks.

Grouped by prefix, so a request for any other page is turned away by three
prefixes instead of every pattern here; Stripe's webhooks come first.
"""

from django.urls import include, path

from billing import plan_views, sales_views, views

app_name = "billing"

urlpatterns = [
    path(
        "billing/",
        include(
            [
                path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
                path(
                    "webhooks/stripe/connect/",
                    views.stripe_connect_webhook,
                    name="stripe_connect_webhook",
                ),
                path("connect/", views.connect, name="connect"),
                path("connect/refresh/", views.connect_refresh, name="connect_refresh"),
                path("connect/return/", views.connect_return, name="connect_return"),
                path("connect/dashboard/", views.connect_dashboard, name="connect_dashboard"),
                path("return/<str:token>/", views.checkout_return, name="checkout_return"),
                path("sales/", sales_views.sales_page, name="sales"),
                path("sales/export.csv", sales_views.sales_export, name="sales_export"),
                path("sales/<int:pk>/", views.sale, name="sale"),
                path("coupons/", views.coupons, name="coupons"),
                path("coupons/<int:pk>/", views.coupon, name="coupon"),
                path("plan/", plan_views.plan, name="plan"),
                path("plan/subscribe/", plan_views.plan_subscribe, name="plan_subscribe"),
                path("plan/change/", plan_views.plan_change, name="plan_change"),
                path(
                    "plan/change/cancel/",
                    plan_views.plan_cancel_change,
                    name="plan_cancel_change",
                ),
                path("plan/portal/", plan_views.plan_portal, name="plan_portal"),
                path("plan/return/", plan_views.plan_return, name="plan_return"),
            ]
        ),
    ),
    path(
        "c/<slug:slug>/",
        include(
            [
                path("buy/", views.buy, name="buy"),
                path("checkout/", views.checkout, name="checkout"),
                path("price/", views.price, name="price"),
            ]
        ),
    ),
    path("settings/purchases/", views.purchases, name="purchases"),
]
