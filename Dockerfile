# One image for every node: national or global, chosen by SDGCITIES_NODE_ID at first start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SDGCITIES_DATA_DIR=/var/lib/sdgcities \
    SDGCITIES_HOST=0.0.0.0 \
    SDGCITIES_PORT=8000

# Chinese stage-report PDFs are drawn with the system's Noto Sans CJK (too large to ship).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home-dir /var/lib/sdgcities --create-home sdgcities
WORKDIR /opt/sdgcities
# The pinned, hashed dependencies first (`make lock`), in a layer of their own; then the project
# without resolving anything again.
COPY requirements/node.txt ./requirements/node.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/node.txt
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY credentials ./credentials
COPY federation ./federation
COPY node ./node
COPY cli ./cli
RUN pip install --no-cache-dir --no-deps '.[node]' && rm -rf /opt/sdgcities/build
COPY docker/entrypoint.sh /usr/local/bin/sdgcities-entrypoint

USER sdgcities
VOLUME ["/var/lib/sdgcities"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"SDGCITIES_PORT\"]}/healthz', timeout=4)"
ENTRYPOINT ["sdgcities-entrypoint"]
