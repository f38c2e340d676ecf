"""pyinfra operations that pyinfra does not ship."""
