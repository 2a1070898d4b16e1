# One image for every app of the fleet; the command picks the app:
#   python -m orchestrator | python -m services.inventory | services.payment | services.shipping | services.notifications
# Build: docker build -t order-fleet:local .   (docker-compose.yml and deploy/k8s use this name)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# Dependencies first, so that a code change does not reinstall them. requirements.lock pins
# every package (it is compiled with the dev extra); used as constraints, it installs exactly
# the locked version of each runtime dependency and leaves the dev tools out of the image.
COPY pyproject.toml requirements.lock ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > runtime.txt \
 && /opt/venv/bin/pip install --constraint requirements.lock --requirement runtime.txt
COPY README.md ./
COPY contracts contracts
COPY fleet fleet
COPY observability observability
COPY orchestrator orchestrator
COPY services services
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/pip check

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && install -d -m 0755 /app \
 && install -d -o app -g app -m 0750 /var/lib/order-fleet
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    API_HOST=0.0.0.0
# Nothing of the source tree is copied: the apps run from the installed wheel. The only
# writable places are /tmp and /var/lib/order-fleet (the orchestrator's read model); a
# named volume mounted there inherits the app user's ownership (docker-compose.yml).
WORKDIR /app
# Numeric, so that Kubernetes can verify runAsNonRoot.
USER 10001:10001
CMD ["python", "-m", "orchestrator"]
