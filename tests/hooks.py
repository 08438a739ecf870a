"""Site hooks used by tests, as a site would write them."""


def roles_by_scope(user, client, scopes, request):
    return {"roles": ["reader"]} if "read" in scopes else {}


def phone_claims(user):
    return {"phone_number": "+15550100", "phone_number_verified": False}


phone_claims.claims_supported = ("phone_number", "phone_number_verified")
