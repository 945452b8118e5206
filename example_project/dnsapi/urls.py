from django.urls import path, re_path

from .views import DomainViewSet, RRsetViewSet

DOMAIN = r"(?P<name>[^/]+)"
TYPE = r"(?P<type>[^/]+)"
rrset_list = RRsetViewSet.as_view(
    {"get": "list", "post": "create", "put": "bulk_update", "patch": "bulk_partial_update"}
)
rrset_detail = RRsetViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("domains/", DomainViewSet.as_view({"get": "list", "post": "create"})),
    re_path(
        rf"^domains/{DOMAIN}/$",
        DomainViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
    ),
    re_path(rf"^domains/{DOMAIN}/rrsets/$", rrset_list),
    # One RRset, in deSEC's forms: "{subname}.../{type}/" and "{subname}@/{type}/" (the apex
    # as ".../{type}/" or "@/{type}/"), and "{subname}/{type}/" for a non-empty subname.
    re_path(rf"^domains/{DOMAIN}/rrsets/(?P<subname>[^/]*)\.\.\./{TYPE}/$", rrset_detail),
    re_path(rf"^domains/{DOMAIN}/rrsets/(?P<subname>[^/]*)@/{TYPE}/$", rrset_detail),
    re_path(rf"^domains/{DOMAIN}/rrsets/(?P<subname>[^/]+)/{TYPE}/$", rrset_detail),
]
