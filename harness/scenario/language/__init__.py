"""The scenario language: YAML with line marks, the JSON Schema, the model, matchers, variables."""
