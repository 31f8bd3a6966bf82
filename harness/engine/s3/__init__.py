"""S3: object events that invoke functions."""
