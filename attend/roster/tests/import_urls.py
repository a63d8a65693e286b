"""The project's URLs plus the import pages, until attend/urls.py includes them."""

from django.urls import include, path

from attend.urls import urlpatterns as project

urlpatterns = [*project, path("imports/", include("attend.roster.importers.urls"))]
