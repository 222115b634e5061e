"""SQLAlchemy models of idp.oidc: clients, signing keys, codes, tokens, login sessions."""
