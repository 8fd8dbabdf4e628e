"""Who spends what: AI Gateway's logs read back by the attribution the Worker sends."""
