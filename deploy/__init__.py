"""Deployment files (docker-compose.yml, dapr.yaml, deploy/k8s) and their offline checks."""
