"""The stack: template.yaml -> resources on a target (SAM translation, packaging, deployment)."""
