"""Optional integrations; the core app never imports them."""
