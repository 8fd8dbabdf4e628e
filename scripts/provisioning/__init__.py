"""Provisioning as code: the Cloudflare resources the Worker needs, planned and applied
through the Cloudflare API (`scripts/provision.py` is what a person runs)."""
