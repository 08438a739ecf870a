"""Site hooks used by tests, as a site would write them."""


def roles_by_scope(user, client, scopes, request):
    return {"roles": ["reader"]} if "read" in scopes else {}
