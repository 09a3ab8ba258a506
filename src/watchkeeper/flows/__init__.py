"""Use cases that span domains. Adapters call them; domain services never import them."""
