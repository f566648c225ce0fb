from django.urls import path

from courses.views import storefront

urlpatterns = [
    path("c/<slug:slug>/", storefront.storefront, name="storefront"),
    path("c/<slug:slug>/cover", storefront.cover, name="cover"),
    path("t/<slug:handle>/", storefront.teacher_page, name="teacher_page"),
]
