"""apigateway."""
