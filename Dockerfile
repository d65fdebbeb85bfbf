# Slim, non-root image: applies migrations, then serves with 2 workers. SQLite in the /data volume unless
# PEER_MATCH_DATABASE_URL names PostgreSQL (compose.yaml). Build: docker build -t peer-match .
# The base is pinned by digest so that a rebuild gets the same interpreter and Debian (docs/decisions/0010);
# to move it, pass --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest of the day>.
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, from the hashed lock alone: this layer is rebuilt only when the lock changes, not the source.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY service service
COPY matching matching
COPY scheduling scheduling
COPY api_schemas api_schemas
RUN pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE}
RUN useradd --no-log-init --create-home --uid 10001 peer && mkdir /data && chown peer /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 \
    PEER_MATCH_DATA_DIR=/data PEER_MATCH_HOST=0.0.0.0 PEER_MATCH_PORT=8000
# Numeric, so that a runtime checking runAsNonRoot can tell it is not root without reading /etc/passwd.
USER 10001
WORKDIR /home/peer
VOLUME ["/data"]
EXPOSE 8000
# Asks the port the server was told to listen on, so a changed PEER_MATCH_PORT does not turn the container unhealthy.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('PEER_MATCH_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=2).status != 200)"]
CMD ["peer-match", "serve", "--workers", "2"]
