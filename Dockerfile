FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY graph ./graph
COPY schema ./schema
COPY loaders ./loaders
RUN pip install --no-cache-dir . && mkdir -p /var/lib/hub && chown nobody /var/lib/hub
EXPOSE 8000
USER nobody
CMD ["hub", "serve", "--host", "0.0.0.0", "--port", "8000"]
