# Slim, non-root image: applies migrations, then serves. Mount /data or set PEER_MATCH_DATABASE_URL.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service service
COPY matching matching
COPY scheduling scheduling
COPY api_schemas api_schemas
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 peer && mkdir /data && chown peer /data
COPY --from=build /install /usr/local
USER peer
ENV PEER_MATCH_DATA_DIR=/data PEER_MATCH_HOST=0.0.0.0 PEER_MATCH_PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["peer-match", "serve"]
