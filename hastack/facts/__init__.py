"""pyinfra facts that pyinfra does not ship."""
