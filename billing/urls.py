"""Getting paid, buying, purchases and sales, and Stripe's webhooks."""

from django.urls import path

from billing import sales_views, views

app_name = "billing"

urlpatterns = [
    path("billing/connect/", views.connect, name="connect"),
    path("billing/connect/refresh/", views.connect_refresh, name="connect_refresh"),
    path("billing/connect/return/", views.connect_return, name="connect_return"),
    path("billing/connect/dashboard/", views.connect_dashboard, name="connect_dashboard"),
    path("c/<slug:slug>/buy/", views.buy, name="buy"),
    path("c/<slug:slug>/checkout/", views.checkout, name="checkout"),
    path("c/<slug:slug>/price/", views.price, name="price"),
    path("billing/return/<str:token>/", views.checkout_return, name="checkout_return"),
    path("settings/purchases/", views.purchases, name="purchases"),
    path("billing/sales/", sales_views.sales_page, name="sales"),
    path("billing/sales/export.csv", sales_views.sales_export, name="sales_export"),
    path("billing/sales/<int:pk>/", views.sale, name="sale"),
    path("billing/coupons/", views.coupons, name="coupons"),
    path("billing/coupons/<int:pk>/", views.coupon, name="coupon"),
    path("billing/webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    path(
        "billing/webhooks/stripe/connect/",
        views.stripe_connect_webhook,
        name="stripe_connect_webhook",
    ),
]
