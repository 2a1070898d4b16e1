"""The fleet in containers: our own Docker engine, images built here, docker compose."""
